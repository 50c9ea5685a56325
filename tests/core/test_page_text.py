"""How templates turn messages into page text: translated, escaped, never trusted as HTML.

The pages' own templates are tested through HTTP (tests/flows/test_translations.py); these
cover the template forms they do not use yet, for the pages still to come.
"""

from __future__ import annotations

import pytest
from markupsafe import escape

from oidc_core.ui import render


def page_text(source: str, language: str = "de", **values: object) -> str:
    return render._environment("", language).from_string(source).render(**values)


def test_trans_block_translates_and_escapes_its_variables() -> None:
    text = page_text(
        "{% trans client=name %}Sign in to continue to {{ client }}{% endtrans %}", name="<b>"
    )
    assert text == "Anmelden, um mit &lt;b&gt; fortzufahren"


def test_a_percent_sign_survives_every_form() -> None:
    assert page_text("{% trans %}100% sure{% endtrans %}") == "100% sure"
    assert page_text('{{ _("50%") }}') == "50%"
    assert page_text('{{ _("%(n)s%%", n=5) }}') == "5%"


@pytest.mark.parametrize(("count", "expected"), [(1, "1 app"), (3, "3 apps")])
def test_plurals(count: int, expected: str) -> None:
    source = "{% trans count=n %}{{ count }} app{% pluralize %}{{ count }} apps{% endtrans %}"
    assert page_text(source, n=count) == expected
    assert page_text('{{ ngettext("%(num)d app", "%(num)d apps", n) }}', n=count) == expected


@pytest.mark.parametrize(
    "message", ["parameter '%d' is repeated", "<script>x</script>", "%(user)s %s"]
)
def test_a_message_from_python_is_shown_as_text(message: str) -> None:
    shown = page_text("{{ _(message) }}", message=message)
    assert shown == str(escape(message))


def test_a_translation_is_not_trusted_as_markup() -> None:
    # Babel's and Jinja's own newstyle gettext would mark the translation safe.
    assert page_text('{{ _("Sign in") }}', "fr") == "Se connecter"
    assert page_text('{{ _("<i>x</i>") }}') == "&lt;i&gt;x&lt;/i&gt;"
