"""``response_mode=form_post`` (T-16): the code, errors and denials posted, escaped, to
the registered URI only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import unescape

import webtest

from tests.support.conformance_basic_op import CB, STATE, asks_to_log_in, id_token_of
from tests.support.flow import Flow

# -- response_mode=form_post (T-16) -------------------------------------------------------------


def form_post_fields(response: webtest.TestResponse, action: str = CB) -> dict[str, str]:
    """The auto-submitting page: its form posts hidden fields to ``action``, nothing else."""
    assert response.status_int == 200, response.status
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    forms = re.findall(r'<form method="post" action="([^"]*)">', response.text)
    assert [unescape(a) for a in forms] == [action]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', response.text
        )
    }
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'sha256-{digest}'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    return fields


def test_form_post_delivers_the_code(flow: Flow) -> None:
    flow.authorize()
    fields = form_post_fields(flow.start(response_mode="form_post", state=STATE))
    assert set(fields) == {"code", "state", "iss"}
    assert (fields["state"], fields["iss"]) == (STATE, flow.issuer)
    id_token_of(flow, fields)


def test_form_post_after_login_and_consent(flow: Flow) -> None:
    page = asks_to_log_in(flow, response_mode="form_post", state=STATE)
    consent = flow.app.get(flow.login(page).headers["Location"])
    fields = form_post_fields(flow.consent(consent))
    assert fields["state"] == STATE
    id_token_of(flow, fields)


def test_form_post_errors_are_posted_too(flow: Flow) -> None:
    fields = form_post_fields(flow.start(response_mode="form_post", prompt="none", state=STATE))
    assert fields["error"] == "login_required"
    assert (fields["state"], fields["iss"]) == (STATE, flow.issuer)
    assert "code" not in fields


def test_form_post_values_are_html_escaped(flow: Flow) -> None:
    flow.authorize()
    state = "\"><script>alert(1)</script>&amp;'<"
    response = flow.start(response_mode="form_post", state=state)
    assert "<script>alert" not in response.text
    assert form_post_fields(response)["state"] == state


def test_form_post_goes_to_the_registered_uri_with_its_query(flow: Flow) -> None:
    flow.authorize(redirect_uri="https://rp.example/cb2?x=1")
    response = flow.start(response_mode="form_post", redirect_uri="https://rp.example/cb2?x=1")
    fields = form_post_fields(response, action="https://rp.example/cb2?x=1")
    assert "code" in fields


def test_form_post_to_an_unregistered_uri_is_an_error_page(flow: Flow) -> None:
    response = flow.start(response_mode="form_post", redirect_uri="https://evil.example/cb")
    assert response.status_int == 400
    assert "evil.example" not in response.text and "<form" not in response.text


def test_consent_denied_with_form_post_is_posted(flow: Flow) -> None:
    page = asks_to_log_in(flow, response_mode="form_post", state=STATE)
    consent = flow.app.get(flow.login(page).headers["Location"])
    fields = form_post_fields(flow.consent(consent, decision="deny"))
    assert fields["error"] == "access_denied"
