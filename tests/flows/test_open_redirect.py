"""No open redirect: no parameter of a request ever becomes a Location off our site
(R-OR-1, T-13, T-14, flask-oidc CVE-2016-1000001).

Every Location the provider sends is built from the issuer or from a URI the client
registered: the login and consent pages ignore ``next``/``return_to``-like parameters, the
host login page gets a ``next`` the provider builds itself, the console always continues at
``/admin/``, and logout only returns to a registered ``post_logout_redirect_uri``.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import make_client, make_user
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.mounts import MountedApp

HOSTILE = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "/\tevil.example",
    " //evil.example",
    "https:evil.example",
    "\\\\evil.example",
    "//evil.example/%2e%2e",
]
NEXT_LIKE = ("next", "return_to", "returnTo", "redirect", "redirect_to", "continue", "url")
CB = "https://rp.example/cb"
BYE = "https://rp.example/bye"


def assert_stays_home(response: webtest.TestResponse, issuer: str, *registered: str) -> None:
    """No Location, or one under the issuer or a registered URI of the client."""
    location = response.headers.get("Location")
    if location is None:
        return
    allowed = (issuer + "/", *(uri.split("?")[0] for uri in registered))
    assert location.startswith(allowed), location
    parts = urlsplit(location)
    assert parts.scheme == "https" and "evil" not in parts.netloc, location


def hostile_params(value: str) -> dict[str, str]:
    return dict.fromkeys(NEXT_LIKE, value)


@pytest.mark.parametrize("value", HOSTILE)
def test_next_like_parameters_never_lead_off_site_through_login_and_consent(
    flow: Flow, value: str
) -> None:
    """T-13: the whole browser journey with the hostile value on every request."""
    issuer = flow.issuer
    start = flow.app.get(
        "/authorize?" + urlencode({**flow.authorize_params(), **hostile_params(value)}),
        expect_errors=True,
    )
    assert_stays_home(start, issuer)
    login_url = start.headers["Location"] + "&" + urlencode(hostile_params(value))
    page = flow.app.get(login_url)
    assert_stays_home(page, issuer)
    fields = {
        "interaction": hidden(page, "interaction"),
        "csrf_token": hidden(page, "csrf_token"),
        "email": flow.user.email,
        "password": flow.user.password,
        **hostile_params(value),
    }
    consent_redirect = flow.app.post("/login?" + urlencode(hostile_params(value)), fields)
    assert consent_redirect.status_int == 303
    assert consent_redirect.headers["Location"].startswith(issuer + "/consent?")
    consent = flow.app.get(consent_redirect.headers["Location"])
    done = flow.app.post(
        "/consent",
        {
            "interaction": hidden(consent, "interaction"),
            "csrf_token": hidden(consent, "csrf_token"),
            "decision": "allow",
            "redirect_uri": value,
            **hostile_params(value),
        },
    )
    assert done.status_int == 303
    assert done.headers["Location"].startswith(CB + "?")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_place_of_the_interaction_are_a_page(flow: Flow, value: str) -> None:
    for path in ("/login", "/consent"):
        response = flow.app.get(path + "?" + urlencode({"interaction": value}), expect_errors=True)
        assert response.status_int == 400
        assert "Location" not in response.headers


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_redirect_uris_are_a_page_not_a_redirect(flow: Flow, value: str) -> None:
    """T-01/T-05 for the corpus: an unregistered redirect_uri is never followed."""
    response = flow.start(redirect_uri=value)
    assert response.status_int == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("value", HOSTILE)
def test_the_console_sign_in_always_continues_at_the_console(
    app: webtest.TestApp, provider: Provider, issuer: str, value: str
) -> None:
    make_user(provider, "root@example.com", "admin's long password", is_admin=True)
    query = "?" + urlencode(hostile_params(value))
    page = app.get("/admin/login" + query)
    response = app.post(
        "/admin/login" + query,
        {
            "csrf_token": hidden(page, "csrf_token"),
            "email": "root@example.com",
            "password": "admin's long password",
            **hostile_params(value),
        },
    )
    assert response.status_int == 303
    assert response.headers["Location"] == issuer + "/admin/"
    for path in ("/admin", "/admin/", "/admin/audit"):
        assert_stays_home(app.get(path + query, expect_errors=True), issuer)
    signed_out = app.post(
        "/admin/logout" + query, {"csrf_token": hidden(app.get("/admin/"), "csrf_token")}
    )
    assert signed_out.headers["Location"] == issuer + "/admin/login"


@pytest.mark.parametrize("value", HOSTILE)
def test_logout_returns_only_to_a_registered_uri(
    app: webtest.TestApp, storage: Storage, alice: Account, value: str
) -> None:
    rp = make_client(storage, "Logout RP", [CB], post_logout_redirect_uris=(BYE,))
    flow = Flow(app, rp, alice)
    flow.authorize()
    for params in (
        {"client_id": rp.client_id, "post_logout_redirect_uri": value},
        {"client_id": rp.client_id, "post_logout_redirect_uri": BYE, **hostile_params(value)},
        hostile_params(value),
    ):
        response = app.get("/end_session?" + urlencode(params), expect_errors=True)
        assert_stays_home(response, flow.issuer, BYE)
        if params.get("post_logout_redirect_uri") == value:
            assert response.status_int == 400


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/authorize",
        "//evil.example/admin",
        "/%09/evil.example",
        "/\\evil.example",
        "/admin/..//evil.example",
        "/static/..%2f..%2f/evil.example",
    ],
)
def test_odd_request_paths_never_redirect_off_site(app: MountedApp, path: str) -> None:
    """T-14: paths that trip framework redirects (trailing slash and the like)."""
    response = app.get(app.mount.prefix + path, expect_errors=True)
    assert response.status_int < 500
    assert_stays_home(response, app.issuer)


@pytest.mark.parametrize("value", HOSTILE)
def test_the_host_login_page_gets_only_our_own_next(
    provider: Provider, client_a: RP, alice: Account, value: str
) -> None:
    """With ``host_login_url`` the provider sends the browser to the host's login page with
    ``next`` set to its own login URL; a hostile ``next`` in the request changes nothing."""
    settings = dataclasses.replace(
        provider.settings, issuer="https://op.example", host_login_url="/account/login"
    )
    host_provider = Provider(settings, storage=provider.storage, host_login=lambda request: None)
    app = webtest.TestApp(
        host_provider, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )
    issuer = settings.issuer
    flow = Flow(app, client_a, alice)
    start = app.get(
        "/authorize?" + urlencode({**flow.authorize_params(), **hostile_params(value)}),
        headers={"Host": "evil.example"},  # the Host header names no site of ours either
        status=303,
    )
    login = app.get(
        start.headers["Location"] + "&" + urlencode(hostile_params(value)),
        headers={"Host": "evil.example"},
        status=303,
    )
    target = urlsplit(login.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "op.example", "/account/login")
    back = parse_qs(target.query)["next"]
    assert len(back) == 1 and back[0].startswith(issuer + "/login?interaction=")
    assert "evil" not in back[0]
