"""Logos and the CSP's ``img-src``: a logo the registration accepts is allowed where it is
shown, and only loopback ``http`` logos reach ``img-src``.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import make_client, make_user, new_app
from tests.support.flow import Account, Flow, hidden
from tests.support.security_headers import ADMIN_EMAIL, ADMIN_PASSWORD


def _img_src(response: webtest.TestResponse) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return next(d.split()[1:] for d in policy.split(";") if d.split()[0] == "img-src")


@pytest.mark.parametrize(
    ("logo", "allowed"),
    [
        ("http://127.0.0.1:9000/logo.png", ["http://127.0.0.1:9000"]),
        ("http://localhost:9000/logo.png", ["http://localhost:9000"]),
        ("https://rp.example/logo.png", []),  # https: covers it
        ("/static/logo.png", []),  # 'self' does
    ],
)
def test_a_logo_the_registration_accepts_is_allowed_by_img_src_where_it_is_shown(
    app: webtest.TestApp, provider: Provider, alice: Account, logo: str, allowed: list[str]
) -> None:
    """A client's logo on an http:// loopback URL (accepted for development) was blocked by
    every page's CSP: its origin is added to img-src on the consent page, the account's
    connected apps and the console's client page; nothing else is."""
    client = make_client(
        provider.storage, "Local app", ["http://127.0.0.1:9000/callback"], logo_uri=logo
    )
    flow = Flow(app, client, alice)
    consent = app.get(flow.login(app.get(flow.start().headers["Location"])).headers["Location"])
    assert "<img src=" in consent.text
    assert _img_src(consent) == ["'self'", "https:", "data:", *allowed]
    flow.consent(consent)
    apps = app.get("/account/")
    assert "<img src=" in apps.text
    assert _img_src(apps) == ["'self'", "https:", "data:", *allowed]
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    admin = new_app(provider)
    login = admin.get("/admin/login")
    signed_in = admin.post(
        "/admin/login",
        {
            "csrf_token": hidden(login, "csrf_token"),
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
        },
    )
    assert signed_in.status_int == 303
    page = admin.get(f"/admin/clients/{client.client_id}")
    assert '<img class="logo" src=' in page.text
    assert _img_src(page) == ["'self'", "https:", "data:", *allowed]


def test_only_loopback_http_logos_reach_img_src() -> None:
    """Whatever a logo URI holds (a row written around the registration rules), img-src
    only ever gains the origin of an http:// URL on a loopback host."""
    from oidc_core import responses

    hostile = [
        "http://evil.example/logo.png",
        "http://127.0.0.1:9000;script-src *",
        "http://127.0.0.1:9000 'unsafe-inline'/x.png",
        "javascript:alert(1)",
        "http://127.0.0.1.nip.io/x.png",
    ]
    policy = responses.html_page("", images_from=hostile).headers["Content-Security-Policy"]
    assert policy == responses.SECURITY_HEADERS["Content-Security-Policy"]
    twice = ["http://[::1]:9000/a.png", "http://[::1]:9000/b.png"]
    policy = responses.html_page("", images_from=twice).headers["Content-Security-Policy"]
    assert "img-src 'self' https: data: http://[::1]:9000; " in policy
