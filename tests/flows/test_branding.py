"""The operator's brand on the pages (docs/templates.md): name, logo, favicon, accent
stylesheet and footer links on the pages, the brand's files served with their headers,
the documents in discovery, and "Not you? Use another account" on the consent page.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from typing import Any

import pytest
import webtest

from oidc_core import Settings
from oidc_core.storage import Storage
from tests.conftest import make_client, make_user
from tests.support.account_pages import provider_with
from tests.support.flow import Flow, hidden, query_of, verify_id_token

pytestmark = pytest.mark.mounts("one")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>'
)
LINKS = {
    "support_url": "mailto:help@hosting.example",
    "op_policy_uri": "https://hosting.example/privacy",
    "op_tos_uri": "https://hosting.example/terms",
    "service_documentation": "https://hosting.example/developers",
}
CB = "https://rp.example/cb"
PASSWORD = "a long enough password"


@pytest.fixture
def branded(settings: Settings, storage: Storage, tmp_path: Path) -> webtest.TestApp:
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "icon.svg").write_bytes(SVG)
    changes: dict[str, Any] = {
        "brand_name": "Example Hosting",
        "brand_logo": str(tmp_path / "logo.png"),
        "brand_favicon": str(tmp_path / "icon.svg"),
        "brand_accent_colour": "#0b6e4f",
        **LINKS,
    }
    return provider_with(settings, storage, **changes)


def version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:12]


def sign_in_page(app: webtest.TestApp, storage: Storage) -> webtest.TestResponse:
    client = make_client(storage, "Client A", [CB])
    flow = Flow(app, client, None)  # type: ignore[arg-type]
    return app.get(flow.start().headers["Location"])


def test_the_login_page_wears_the_brand(branded: webtest.TestApp, storage: Storage) -> None:
    page = sign_in_page(branded, storage)
    text = page.text
    assert '<span class="provider-name">Example Hosting</span>' in text
    logo = "https://op.example/static/brand/logo.png?v=" + version(PNG)
    assert f'<img class="provider-logo" src="{logo}" alt="" height="40">' in text
    icon = "https://op.example/static/brand/favicon.svg?v=" + version(SVG)
    assert f'<link rel="icon" href="{icon}">' in text
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', text)
    assert stylesheets[0] == "https://op.example/static/oidc.css"
    assert stylesheets[1].startswith("https://op.example/static/brand.css?v=")
    assert len(stylesheets) == 2
    css = branded.get(stylesheets[1])  # the versioned URL serves the stylesheet
    assert stylesheets[1].endswith("?v=" + version(css.body))
    footer = text.split('<footer class="site-footer">', 1)[1].split("</footer>", 1)[0]
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', footer) == [
        (LINKS["support_url"], "Help"),
        (LINKS["op_policy_uri"], "Privacy policy"),
        (LINKS["op_tos_uri"], "Terms of service"),
        (LINKS["service_documentation"], "Developer documentation"),
    ]
    assert "Forgot password?" in text  # the built-in accounts can reset passwords


def test_the_footer_is_translated(branded: webtest.TestApp, storage: Storage) -> None:
    branded.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = sign_in_page(branded, storage)
    assert ">Hilfe</a>" in page.text and 'aria-label="Über Example Hosting"' in page.text


def test_the_account_and_console_frames_have_the_footer(branded: webtest.TestApp) -> None:
    for path in ("/account/login", "/admin/login"):
        assert '<footer class="site-footer">' in branded.get(path).text


def test_without_brand_settings_the_pages_look_as_before(
    settings: Settings, storage: Storage
) -> None:
    app = provider_with(settings, storage)
    text = sign_in_page(app, storage).text
    assert '<span class="provider-name">op.example</span>' in text  # the issuer's host
    assert "<img" not in text and "site-footer" not in text and "brand.css" not in text
    assert '<link rel="icon" href="data:,">' in text
    assert app.get("/static/brand.css", expect_errors=True).status_int == 404
    assert app.get("/static/brand/logo.png", expect_errors=True).status_int == 404


def test_the_brand_files_are_served_with_their_type_and_no_sniffing(
    branded: webtest.TestApp,
) -> None:
    css = branded.get("/static/brand.css")
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert ":root { --accent: #0b6e4f; --on-accent: #ffffff; }" in css.text
    logo = branded.get("/static/brand/logo.png")
    assert logo.body == PNG and logo.headers["Content-Type"] == "image/png"
    for response in (css, logo, branded.get("/static/oidc.css")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "max-age=3600"
    assert "Content-Security-Policy" not in logo.headers
    assert branded.get("/static/brand/../oidc.css", expect_errors=True).status_int == 404
    assert branded.get("/static/brand/logo.svg", expect_errors=True).status_int == 404


def test_an_svg_opened_directly_runs_nothing(branded: webtest.TestApp) -> None:
    icon = branded.get("/static/brand/favicon.svg")
    assert icon.body == SVG and icon.headers["Content-Type"] == "image/svg+xml"
    policy = icon.headers["Content-Security-Policy"]
    assert policy == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert icon.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/oauth/openid-configuration.php"]
)
def test_discovery_publishes_the_operators_documents(branded: webtest.TestApp, path: str) -> None:
    document = branded.get(path).json
    assert document["op_policy_uri"] == LINKS["op_policy_uri"]
    assert document["op_tos_uri"] == LINKS["op_tos_uri"]
    assert document["service_documentation"] == LINKS["service_documentation"]


def test_discovery_leaves_out_the_documents_not_configured(
    settings: Settings, storage: Storage
) -> None:
    document = provider_with(settings, storage).get("/.well-known/openid-configuration").json
    assert not {"op_policy_uri", "op_tos_uri", "service_documentation"} & set(document)


def test_not_you_signs_in_another_account_for_the_same_request(
    branded: webtest.TestApp, storage: Storage
) -> None:
    """The consent page links to the login page of the same pending request; following
    it changes nothing; another account signing in there gets the code, under a new sid."""
    client = make_client(storage, "Client A", [CB])
    provider = branded.app
    alice = make_user(provider, "alice@example.com", PASSWORD)  # type: ignore[arg-type]
    bob = make_user(provider, "bob@example.com", PASSWORD)  # type: ignore[arg-type]
    flow = Flow(branded, client, alice)
    started = flow.start()
    response = flow.login(branded.get(started.headers["Location"]))
    consent = branded.get(response.headers["Location"])
    switch = re.search(r'<a href="([^"]+)">Not you\? Use another account</a>', consent.text)
    assert switch, consent.text
    handle = hidden(consent, "interaction")
    assert html.unescape(switch.group(1)) == (
        f"https://op.example/login?interaction={handle}&another=1"
    )
    assert '<a href="https://op.example/end_session">Sign out</a>' in consent.text
    login = branded.get(html.unescape(switch.group(1)))
    assert hidden(login, "interaction") == handle
    assert branded.get(response.headers["Location"]).status_int == 200  # still alice's
    as_bob = Flow(branded, client, bob)
    consent_bob = branded.get(as_bob.login(login).headers["Location"])
    assert "bob@example.com" in consent_bob.text and "alice@example.com" not in consent_bob.text
    code = query_of(as_bob.consent(consent_bob).headers["Location"])["code"]
    tokens = as_bob.token(code)
    assert tokens.status_int == 200, tokens.text
    claims = verify_id_token(branded, tokens.json["id_token"], client.client_id)
    assert claims["sub"] == bob.subject


def test_after_not_you_the_first_accounts_consent_form_and_cookie_are_dead(
    branded: webtest.TestApp, storage: Storage
) -> None:
    """Another account signing in through "Not you?" replaces the session's key and CSRF
    secret: the first account's consent form, still open, cannot allow the request for the
    second one, and the first account's cookie (kept elsewhere) signs nobody in."""
    client = make_client(storage, "Client A", [CB])
    provider = branded.app
    alice = make_user(provider, "alice@example.com", PASSWORD)  # type: ignore[arg-type]
    bob = make_user(provider, "bob@example.com", PASSWORD)  # type: ignore[arg-type]
    flow = Flow(branded, client, alice)
    response = flow.login(branded.get(flow.start().headers["Location"]))
    alice_consent = branded.get(response.headers["Location"])
    cookies_before = dict(branded.cookies)
    switch = re.search(r'<a href="([^"]+)">Not you\? Use another account</a>', alice_consent.text)
    assert switch
    as_bob = Flow(branded, client, bob)
    bob_consent_url = as_bob.login(branded.get(html.unescape(switch.group(1)))).headers["Location"]
    assert dict(branded.cookies) != cookies_before  # a new session key
    stale = alice_consent.forms[0].submit("decision", value="allow", expect_errors=True)
    assert stale.status_int == 403 and "The form has expired" in stale.text
    # bob's own consent page still works, and nothing was granted to him by alice's form
    bob_row = storage.users.by_email("bob@example.com")
    assert bob_row is not None
    stored = storage.clients.by_client_id(client.client_id)
    assert stored is not None
    assert storage.grants.consented_scopes(bob_row.id, stored.id) == set()
    assert branded.get(bob_consent_url).status_int == 200
    stranger = webtest.TestApp(provider, extra_environ=branded.extra_environ)
    for name, value in cookies_before.items():
        stranger.set_cookie(name, value)
    page = stranger.get(bob_consent_url, expect_errors=True)
    assert page.status_int == 400 and "bob@example.com" not in page.text


def test_not_you_shows_an_empty_login_form_even_with_a_login_hint(
    branded: webtest.TestApp, storage: Storage
) -> None:
    """The request's ``login_hint`` fills the login form the first time; the form reached
    through "Not you? Use another account" is for another account, so it starts empty."""
    client = make_client(storage, "Client A", [CB])
    alice = make_user(branded.app, "alice@example.com", PASSWORD)  # type: ignore[arg-type]
    flow = Flow(branded, client, alice)
    first = branded.get(flow.start(login_hint="alice@example.com").headers["Location"])
    assert 'value="alice@example.com"' in first.text  # the hint, as before
    consent = branded.get(flow.login(first).headers["Location"])
    switch = re.search(r'<a href="([^"]+)">Not you\? Use another account</a>', consent.text)
    assert switch
    another = branded.get(html.unescape(switch.group(1)))
    assert hidden(another, "interaction") == hidden(consent, "interaction")
    assert "alice@example.com" not in another.text.split('<form method="post"', 1)[1]
