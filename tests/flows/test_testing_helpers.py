"""``oidc_core.testing``: the flow helper against our provider, and the plugin as a host uses it.

The plugin runs in a separate pytest process (``runpytest_subprocess``): its provider binds
the process-wide database, which this session's provider already holds.
"""

from __future__ import annotations

import os
import textwrap

import pytest
import webtest

from oidc_core import Provider
from oidc_core.testing import DATABASE_ENV, FlowError, create_user, register_client, run_code_flow
from tests.conftest import new_app

pytest_plugins = ["pytester"]


def test_run_code_flow_at_the_root_of_an_origin(app: webtest.TestApp, provider: Provider) -> None:
    client = register_client(provider)
    user = create_user(provider, name="Ann Example", email_verified=True)
    tokens = run_code_flow(app, client, user, scopes=("openid", "profile"))
    assert tokens.claims["sub"] == user.subject
    assert tokens.claims["aud"] == client.client_id
    assert tokens.scopes == {"openid", "profile"}
    assert tokens.response["token_type"] == "Bearer"
    info = app.get("/userinfo", headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert (info.json["sub"], info.json["name"]) == (user.subject, "Ann Example")
    assert "email" not in info.json


def test_run_code_flow_without_pkce_and_with_remembered_consent(
    app: webtest.TestApp, provider: Provider
) -> None:
    client, user = register_client(provider), create_user(provider)
    first = run_code_flow(app, client, user, pkce=False)
    second = run_code_flow(app, client, user)  # signed in and consented: straight to the code
    assert first.access_token != second.access_token
    assert first.claims["sub"] == second.claims["sub"] == user.subject


def test_run_code_flow_says_why_it_failed(app: webtest.TestApp, provider: Provider) -> None:
    client, user = register_client(provider), create_user(provider)
    wrong = type(user)(user.email, "not the password", user.subject)
    with pytest.raises(FlowError, match="expected a redirect"):
        run_code_flow(app, client, wrong)
    stranger = type(client)(client.issuer, client.client_id, "wrong secret", client.redirect_uri)
    with pytest.raises(FlowError, match="invalid_client"):
        run_code_flow(new_app(provider), stranger, user)  # a fresh browser on the mount


# Warnings are errors in the host suite too (WebOb still imports the deprecated cgi module).
HOST_INI = """
[pytest]
filterwarnings =
    error
    ignore:'cgi' is deprecated:DeprecationWarning
"""

HOST_CONFTEST = """
    import pytest
    import webtest
    from webob import Request, Response

    from oidc_core.bearer import BearerMiddleware

    pytest_plugins = ["oidc_core.testing"]


    @pytest.fixture(scope="session")
    def oidc_issuer():
        return "https://shop.example/account/oidc"


    def make_app(provider):
        def inner(environ, start_response):
            request = Request(environ)
            if request.path_info.startswith("/account/oidc/"):
                request.path_info_pop()
                request.path_info_pop()
                return provider(environ, start_response)
            if request.path_info == "/api/orders":
                info = environ["oidc.token"]
                return Response(json={"owner": info.subject})(environ, start_response)
            return Response("shop")(environ, start_response)

        return BearerMiddleware(inner, provider, required_scopes=["email"], paths=["/api"])


    @pytest.fixture
    def shop(oidc_provider):
        return webtest.TestApp(make_app(oidc_provider))
"""

HOST_TESTS = """
    from oidc_core.testing import run_code_flow


    def test_orders_need_a_token(shop):
        response = shop.get("/api/orders", expect_errors=True)
        assert response.status_int == 401
        assert "error=" not in response.headers["WWW-Authenticate"]


    def test_orders_of_the_signed_in_user(shop, oidc_client, oidc_user):
        tokens = run_code_flow(shop, oidc_client, oidc_user)
        assert tokens.claims["iss"] == "https://shop.example/account/oidc"
        assert tokens.claims["sub"] == oidc_user.subject
        response = shop.get(
            "/api/orders", headers={"Authorization": "Bearer " + tokens.access_token}
        )
        assert response.json == {"owner": oidc_user.subject}


    def test_a_token_without_the_scope_is_refused(shop, oidc_client, oidc_user):
        tokens = run_code_flow(shop, oidc_client, oidc_user, scopes=["openid"])
        response = shop.get(
            "/api/orders",
            headers={"Authorization": "Bearer " + tokens.access_token},
            expect_errors=True,
        )
        assert response.status_int == 403
        assert 'scope="email"' in response.headers["WWW-Authenticate"]
"""


def test_a_host_suite_uses_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL runs the host suite shares our database; otherwise its own SQLite file.
    url = os.environ.get("OIDC_TEST_DATABASE_URL")
    if url:
        monkeypatch.setenv(DATABASE_ENV, url)
    else:
        monkeypatch.delenv(DATABASE_ENV, raising=False)
    pytester.makeini(HOST_INI)
    pytester.makeconftest(textwrap.dedent(HOST_CONFTEST))
    pytester.makepyfile(test_shop=textwrap.dedent(HOST_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
