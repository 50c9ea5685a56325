"""Template overrides (``templates_dir``, docs/templates.md): an override of EACH bundled
page, extending the bundled one as ``bundled/<name>`` and adding a marker to its content
block, is what the provider serves, reached over HTTP on a real provider and database;
every variable a page receives is one docs/templates.md documents for it.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import webtest

from oidc_core import ConfigurationError, Provider, Settings
from oidc_core.storage import Storage
from oidc_core.ui import render
from tests.conftest import make_client, make_user
from tests.support import account_pages, admin_console
from tests.support.account_links import reset_link
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.mfa import Authenticator, enrol, second_step
from tests.support.smtp import Mailbox, html_of, link_in, mail_settings, text_of

pytestmark = pytest.mark.mounts("one")

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://op.example"
BASES = {"base.html", "area_base.html", "account_base.html", "admin_base.html"}
PAGES = sorted(
    path.name
    for path in render.TEMPLATES_DIR.glob("*.html")
    if not path.name.startswith("_") and path.name not in BASES and path.name != "mail.html"
)
PASSWORD = "a long enough password"
CB = "https://rp.example/cb"


def marker(name: str) -> str:
    return f'<p data-override="{name}">override of {name}</p>'


def write_overrides(directory: Path) -> None:
    for name in PAGES:
        (directory / name).write_text(
            f'{{% extends "bundled/{name}" %}}\n'
            f"{{% block content %}}{marker(name)}{{{{ super() }}}}{{% endblock %}}\n"
        )


@dataclasses.dataclass
class Site:
    """A provider with an override of every page, its users and a client; ``seen``: the
    variables each template was rendered with."""

    provider: Provider
    client: RP
    user: Account
    seen: dict[str, set[str]]

    def browser(self) -> webtest.TestApp:
        environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
        return webtest.TestApp(self.provider, extra_environ=environ)

    def signed_in(self, account: Account | None = None) -> webtest.TestApp:
        app = self.browser()
        account = account or self.user
        assert account_pages.sign_in(app, account.email, account.password).status_int == 303
        return app

    def admin(self) -> webtest.TestApp:
        app = self.browser()
        response = admin_console.sign_in(app, "root@example.com", PASSWORD)
        assert response.status_int == 303, response.text[:500]
        return app

    def login_page(self, app: webtest.TestApp, **params: str) -> webtest.TestResponse:
        flow = Flow(app, self.client, self.user)
        return app.get(flow.start(**params).headers["Location"])

    def consent_page(self, app: webtest.TestApp, **params: str) -> webtest.TestResponse:
        flow = Flow(app, self.client, self.user)
        response = flow.login(self.login_page(app, **params))
        assert response.status_int == 303, response.text[:500]
        return app.get(response.headers["Location"])


@pytest.fixture
def site(
    settings: Settings,
    storage: Storage,
    mailbox: Mailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Site]:
    write_overrides(tmp_path)
    changes: dict[str, Any] = {**mail_settings(mailbox), "templates_dir": str(tmp_path)}
    provider = Provider(dataclasses.replace(settings, issuer=ISSUER, **changes), storage=storage)
    seen: dict[str, set[str]] = {}
    original = render.render

    def recording(template: str, *args: Any, **context: Any) -> str:
        seen.setdefault(template, set()).update(context)
        return original(template, *args, **context)

    monkeypatch.setattr(render, "render", recording)
    client = make_client(storage, "Client A", [CB], logo_uri="https://rp.example/logo.png")
    user = make_user(provider, "alice@example.com", PASSWORD, name="Alice")
    make_user(provider, "root@example.com", PASSWORD, is_admin=True)
    yield Site(provider, client, user, seen)
    provider.mail.drain(10)


def _expect(response: webtest.TestResponse, status: int = 200) -> webtest.TestResponse:
    assert response.status_int == status, (response.status, response.text[:800])
    return response


def login(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return site.login_page(site.browser())


def consent(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return site.consent_page(site.browser())


def form_post(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.browser()
    page = site.consent_page(app, response_mode="form_post")
    return Flow(app, site.client, site.user).consent(page)


def logout(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.browser()
    site.consent_page(app)
    return app.get("/end_session")


def error(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return _expect(site.browser().get("/nothing-here", expect_errors=True), 404)


def account_login(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return site.browser().get("/account/login")


def account_forgot(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return site.browser().get("/account/forgot-password")


def account_reset(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.browser()
    return app.get(reset_link(app, mailbox, site.user.email))


def account_verify(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.signed_in()
    fields = {"email": "alice@new.example", "current_password": PASSWORD}
    token = account_pages.csrf(app, "/account/profile")
    _expect(account_pages.post(app, "/account/email", fields, token=token), 303)
    return app.get(link_in(mailbox.wait()[0]))


def account_link_result(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return _expect(site.browser().get("/account/verify-email?token=x", expect_errors=True), 400)


def account_page(path: str) -> Callable[[Site, Mailbox], webtest.TestResponse]:
    return lambda site, mailbox: site.signed_in().get(path)


def admin_page(path: str) -> Callable[[Site, Mailbox], webtest.TestResponse]:
    return lambda site, mailbox: site.admin().get(path.format(client=site.client.client_id))


def admin_user(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    user = site.provider.storage.users.by_email(site.user.email)
    assert user is not None
    return site.admin().get("/admin/users/" + quote(user.subject, safe=""))


def admin_error(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return _expect(site.admin().get("/admin/clients/no-such-client", expect_errors=True), 404)


def admin_forbidden(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.browser()
    _expect(admin_console.sign_in(app, site.user.email, site.user.password), 303)
    return _expect(app.get("/admin/", expect_errors=True), 403)


def admin_secret(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.admin()
    response = admin_console.post(app, "/admin/clients/new", admin_console.client_form())
    return admin_console.followed(app, response)


def admin_registration_token(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.admin()
    form = [("name", "partner"), ("expires_in", "1d"), ("uses_allowed", "1"), ("scope", "openid")]
    form += [("grant_type", "authorization_code"), ("redirect_hosts", "partner.example")]
    response = admin_console.post(app, "/admin/registration-tokens", form)
    return admin_console.followed(app, response)


def _mfa_login(site: Site, app: webtest.TestApp) -> webtest.TestResponse:
    """Past the password of a sign-in whose client requires a second factor."""
    bank = make_client(site.provider.storage, "Bank", ["https://bank.example/cb"], require_mfa=True)
    flow = Flow(app, bank, site.user)
    return _expect(flow.login(app.get(flow.start().headers["Location"])))


def second_factor_enrol(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    return _mfa_login(site, site.browser())


def second_factor_recovery(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.browser()
    page = _mfa_login(site, app)
    secret = re.search(r'id="totp-secret">([^<]+)<', page.text)
    assert secret
    device = Authenticator(secret.group(1).replace(" ", ""))
    return second_step(app, page, device.code(), action="enrol")


def second_factor_continue(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    page = second_factor_recovery(site, mailbox)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action
    return page.test_app.get(action.group(1).replace("&amp;", "&"))


def second_factor(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    enrol(site.signed_in())
    return _mfa_login(site, site.browser())


def second_factor_expired(site: Site, mailbox: Mailbox) -> webtest.TestResponse:
    app = site.browser()
    page = site.login_page(app)
    path = "/login/second-factor?interaction=" + hidden(page, "interaction")
    return _expect(app.get(path, expect_errors=True), 400)


REACH: dict[str, Callable[[Site, Mailbox], webtest.TestResponse]] = {
    "login.html": login,
    "consent.html": consent,
    "form_post.html": form_post,
    "logout.html": logout,
    "error.html": error,
    "account_login.html": account_login,
    "account_forgot.html": account_forgot,
    "account_reset.html": account_reset,
    "account_verify.html": account_verify,
    "account_link_result.html": account_link_result,
    "account_apps.html": account_page("/account/"),
    "account_sessions.html": account_page("/account/sessions"),
    "account_profile.html": account_page("/account/profile"),
    "account_passkeys.html": account_page("/account/passkeys"),
    "account_security.html": account_page("/account/security"),
    "admin_login.html": lambda site, mailbox: site.browser().get("/admin/login"),
    "admin_clients.html": admin_page("/admin/"),
    "admin_client.html": admin_page("/admin/clients/{client}"),
    "admin_delete.html": admin_page("/admin/clients/{client}/delete"),
    "admin_reset.html": admin_page("/admin/clients/{client}/reset-secret"),
    "admin_users.html": admin_page("/admin/users"),
    "admin_audit.html": admin_page("/admin/audit"),
    "admin_registration_tokens.html": admin_page("/admin/registration-tokens"),
    "admin_user.html": admin_user,
    "admin_error.html": admin_error,
    "admin_forbidden.html": admin_forbidden,
    "admin_secret.html": admin_secret,
    "admin_registration_token.html": admin_registration_token,
    "second_factor.html": second_factor,
    "second_factor_enrol.html": second_factor_enrol,
    "second_factor_recovery.html": second_factor_recovery,
    "second_factor_continue.html": second_factor_continue,
    "second_factor_expired.html": second_factor_expired,
}


def test_every_bundled_page_has_a_way_to_reach_it() -> None:
    assert sorted(REACH) == PAGES


@pytest.mark.parametrize("name", PAGES)
def test_an_override_of_each_page_is_served(site: Site, mailbox: Mailbox, name: str) -> None:
    page = REACH[name](site, mailbox)
    assert marker(name) in page.text, (name, page.status, page.text[:800])
    assert page.text.count("data-override=") == 1  # the page's own, no other
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; ")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert name in site.seen
    documented = documented_variables()
    assert name in documented, f"docs/templates.md documents no {name}"
    undocumented = site.seen[name] - documented[name] - documented["every page"]
    assert not undocumented, f"docs/templates.md, {name}: add {sorted(undocumented)}"


def documented_variables() -> dict[str, set[str]]:
    """The variables docs/templates.md lists for each template: the first column of the
    table under its ``### `name``` heading (``every page``: the globals)."""
    text = (ROOT / "docs" / "templates.md").read_text()
    found: dict[str, set[str]] = {}
    for heading, body in re.findall(r"^### `?([\w. ]+?)`?\n(.*?)(?=^#|\Z)", text, re.M | re.S):
        found[heading] = set(re.findall(r"^\| `(\w+)`", body, re.M))
    return found


def test_the_documentation_names_every_page_and_nothing_else() -> None:
    documented = set(documented_variables()) - {"every page"}
    assert documented == set(PAGES) | {"mail.html", "mail.txt"}


def test_without_an_override_the_bundled_page_is_served(
    settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    (tmp_path / "unrelated.html").write_text("not a page of ours")
    app = account_pages.provider_with(settings, storage, templates_dir=str(tmp_path))
    page = app.get("/account/login")
    assert "data-override" not in page.text and "not a page of ours" not in page.text


def test_an_override_of_the_mail_is_what_is_sent(
    settings: Settings, storage: Storage, mailbox: Mailbox, tmp_path: Path
) -> None:
    """Mail goes through the same loader: ``mail.txt`` in ``templates_dir`` is the plain
    text part, the bundled one still reachable as ``bundled/mail.txt``."""
    (tmp_path / "mail.txt").write_text(
        '{% include "bundled/mail.txt" %}\n-- \nExample Hosting support: +1 555 0100\n'
    )
    changes = {**mail_settings(mailbox), "templates_dir": str(tmp_path)}
    app = account_pages.provider_with(settings, storage, **changes)
    user = make_user(app.app, "alice@example.com", PASSWORD)  # type: ignore[arg-type]
    link = reset_link(app, mailbox, user.email)
    [message] = mailbox.wait()
    text = text_of(message)
    assert text.rstrip().endswith("Example Hosting support: +1 555 0100")
    assert link.split("?")[0] in text  # the bundled part, link included
    assert "Example Hosting" not in html_of(message)  # mail.html is the bundled one


def test_a_bundled_folder_in_the_overrides_cannot_shadow_the_bundled_templates(
    settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    (tmp_path / "bundled").mkdir()
    (tmp_path / "bundled" / "account_login.html").write_text("shadow")
    (tmp_path / "account_login.html").write_text(
        '{% extends "bundled/account_login.html" %}'
        "{% block content %}<p>mine</p>{{ super() }}{% endblock %}"
    )
    app = account_pages.provider_with(settings, storage, templates_dir=str(tmp_path))
    page = app.get("/account/login")
    assert "<p>mine</p>" in page.text and 'name="password"' in page.text
    assert "shadow" not in page.text


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("login.html", b"{% if %}<p>mine</p>", "templates_dir: login.html line 1: "),
        (
            "_footer_extra.html",
            b"<p>{{ brand.name }</p>\n",
            "templates_dir: _footer_extra.html line 1: ",
        ),
        ("mail.txt", "Grüße\n".encode("latin-1"), "templates_dir: mail.txt is not UTF-8 text"),
    ],
)
def test_a_broken_override_stops_the_start_naming_the_file(
    settings: Settings, storage: Storage, tmp_path: Path, name: str, body: bytes, message: str
) -> None:
    """An override Jinja2 cannot read is refused when the provider is built, with the file
    and line, not a 500 on every page that uses it."""
    (tmp_path / name).write_bytes(body)
    (tmp_path / "notes.md").write_bytes(b"\xff not a template, not read")
    with pytest.raises(ConfigurationError) as refused:
        account_pages.provider_with(settings, storage, templates_dir=str(tmp_path))
    assert str(refused.value).startswith(message), refused.value


def test_an_error_page_override_broken_after_the_start_still_answers(
    settings: Settings, storage: Storage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A changed override is read again at its next use, so ``error.html`` can break while
    the provider runs: the failure's own page then fails too, and the answer is a short
    text with the correlation id (logged with both errors), not the server's traceback."""
    override = tmp_path / "error.html"
    override.write_text('{% extends "bundled/error.html" %}')
    app = account_pages.provider_with(settings, storage, templates_dir=str(tmp_path))
    assert app.get("/nothing-here", status=404).content_type == "text/html"
    override.write_text("{% if %}")
    later = override.stat().st_mtime + 5
    os.utime(override, (later, later))
    response = app.get("/nothing-here", status=500)
    assert response.content_type == "text/plain"
    correlation = re.fullmatch(
        r"Something went wrong \(correlation id ([0-9a-f]{16})\)\.\n", response.text
    )
    assert correlation, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    logged = [r for r in caplog.records if correlation.group(1) in r.getMessage()]
    assert len(logged) == 2 and all(r.exc_info for r in logged)
    # a handler's error page (an expired sign-in request) fails the same way
    routed = app.get("/login", {"interaction": "gone"}, status=500)
    assert routed.text.startswith("Something went wrong (correlation id "), routed.text
