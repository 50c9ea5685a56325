"""Host login reports how and when the person signed in (``Account.amr``,
``Account.auth_time``), and the provider steps up through the host's login page when a
request asks for more (docs/hosting.md; SECURITY-CHECKLIST ACR-8, ACR-9).

The host is the billing system of ``test_host_accounts.py``, whose session now also
remembers how its customer signed in.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest
from webob import Request

from oidc_core import Provider, Settings, authn
from oidc_core.accounts import Account
from oidc_core.storage import Storage
from tests.conftest import make_client
from tests.flows.test_host_accounts import (
    HOST_COOKIE,
    ROOT_ISSUER,
    BillingUsers,
    _host_app,
    billing,
    root_settings,
)
from tests.support.flow import RP, Flow, query_of, verify_id_token
from tests.support.flow import Account as Person

__all__ = ["billing", "root_settings"]  # the fixtures, shared with the host accounts tests

pytestmark = pytest.mark.mounts("one")

HOST_LOGIN = "https://billing.example/login"
CALLBACK = "https://rp.example/cb"
OTP_SIGN_IN = ("pwd", "otp")


class SteppingHost(BillingUsers):
    """The billing system, its session remembering how and when the customer signed in."""

    def __init__(self, users: BillingUsers) -> None:
        super().__init__()
        self.rows = users.rows
        self.how: dict[str, tuple[tuple[str, ...], int | None]] = {}

    def sign_in(
        self,
        app: webtest.TestApp,
        number: str,
        amr: tuple[str, ...] = ("pwd",),
        auth_time: int | None = None,
    ) -> None:
        cookie = f"host-{number}-{len(self.how)}"
        self.sessions[cookie] = number
        self.how[cookie] = (amr, auth_time)
        app.set_cookie(HOST_COOKIE, cookie)

    def host_login(self, request: Request) -> Account | None:
        account = super().host_login(request)
        if account is None:
            return None
        amr, auth_time = self.how[request.cookies[HOST_COOKIE]]
        return dataclasses.replace(account, amr=amr, auth_time=auth_time)


@pytest.fixture
def host(billing: BillingUsers) -> SteppingHost:
    return SteppingHost(billing)


@pytest.fixture
def provider_with_host(root_settings: Settings, storage: Storage, host: SteppingHost) -> Provider:
    settings = dataclasses.replace(root_settings, host_login_url=HOST_LOGIN)
    return Provider(settings, storage=storage, accounts=host, host_login=host.host_login)


@pytest.fixture
def rp(storage: Storage) -> RP:
    return make_client(storage, "Trusted RP", [CALLBACK], skip_consent=True)


@pytest.fixture
def app(provider_with_host: Provider) -> webtest.TestApp:
    return _host_app(provider_with_host)


@pytest.fixture
def flow(app: webtest.TestApp, rp: RP) -> Flow:
    return Flow(app, rp, Person("", "", subject=""), scope="openid")


def id_token(flow: Flow, response: webtest.TestResponse) -> dict[str, Any]:
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    response = flow.token(query_of(location)["code"])
    assert response.status_int == 200, response.text
    return verify_id_token(flow.app, response.json["id_token"], flow.client.client_id)


def sent_to_host(flow: Flow, **ask: str) -> tuple[dict[str, list[str]], str]:
    """The request goes to our login page and on to the host's, with the ask: the host's
    query and the ``next`` to come back to."""
    started = flow.start(**ask)
    assert urlsplit(started.headers["Location"]).path == "/login"
    login = flow.app.get(started.headers["Location"], status=303)
    target = urlsplit(login.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == HOST_LOGIN
    query = parse_qs(target.query)
    back = query.pop("next")[0]
    assert back.startswith(f"{ROOT_ISSUER}/login?interaction=")
    return query, back


def essential(acr: str) -> str:
    return json.dumps({"id_token": {"acr": {"essential": True, "values": [acr]}}})


# -- ACR-8: what the host reports reaches the ID token --------------------------------------------


def test_the_hosts_methods_and_time_are_in_the_id_token(flow: Flow, host: SteppingHost) -> None:
    signed_in_at = int(time.time()) - 60
    host.sign_in(flow.app, "1001", OTP_SIGN_IN, signed_in_at)
    token = id_token(flow, flow.start())
    assert token["amr"] == ["mfa", "otp", "pwd"]
    assert token["acr"] == authn.ACR_MFA
    assert token["auth_time"] == signed_in_at


def test_a_host_that_reports_nothing_signed_in_with_a_password(
    flow: Flow, host: SteppingHost
) -> None:
    host.sign_in(flow.app, "1001")
    token = id_token(flow, flow.start())
    assert (token["amr"], token["acr"]) == (["pwd"], authn.ACR_SINGLE_FACTOR)
    assert abs(token["auth_time"] - time.time()) < 5


@pytest.mark.parametrize(
    "account",
    [
        {"amr": ("pwd", "retina")},
        {"amr": ()},
        {"amr": "pwd"},
        {"auth_time": "yesterday"},
        {"auth_time": True},
    ],
)
def test_an_account_with_methods_we_do_not_know_is_refused_at_once(
    account: dict[str, Any],
) -> None:
    with pytest.raises(ValueError, match="Account"):
        Account("1001", "carol@billing.example", **account)


# -- ACR-9: step-up through the host --------------------------------------------------------------


def test_acr_values_above_the_hosts_sign_in_step_up_through_the_host(
    flow: Flow, host: SteppingHost
) -> None:
    host.sign_in(flow.app, "1001")
    ask, back = sent_to_host(flow, acr_values=authn.ACR_MFA)
    assert ask == {"acr_values": [authn.ACR_MFA]}
    host.sign_in(flow.app, "1001", OTP_SIGN_IN)  # the host asked for a second factor
    token = id_token(flow, flow.app.get(back, status=303))
    assert (token["amr"], token["acr"]) == (["mfa", "otp", "pwd"], authn.ACR_MFA)
    # the session follows the host: the next request needs no step-up
    assert id_token(flow, flow.start(acr_values=authn.ACR_MFA))["acr"] == authn.ACR_MFA


def test_a_host_that_still_reports_too_little_is_asked_once(flow: Flow, host: SteppingHost) -> None:
    host.sign_in(flow.app, "1001")
    _, back = sent_to_host(flow, acr_values=authn.ACR_MFA)
    voluntary = id_token(flow, flow.app.get(back, status=303))  # no second trip to the host
    assert voluntary["acr"] == authn.ACR_SINGLE_FACTOR

    _, back = sent_to_host(flow, claims=essential(authn.ACR_MFA), state="s")
    refused = flow.app.get(back, status=303)
    callback = query_of(refused.headers["Location"])
    assert refused.headers["Location"].startswith(CALLBACK + "?")
    assert callback["error"] == "unmet_authentication_requirements"
    assert (callback["state"], callback["iss"]) == ("s", ROOT_ISSUER)
    assert "code" not in callback
    flow.app.get(back, status=400)  # the request is over


def test_max_age_0_asks_the_host_to_sign_in_again(flow: Flow, host: SteppingHost) -> None:
    earlier = int(time.time()) - 600
    host.sign_in(flow.app, "1001", auth_time=earlier)
    ask, back = sent_to_host(flow, max_age="0")
    assert ask == {"prompt": ["login"], "max_age": ["0"]}
    now = int(time.time())
    host.sign_in(flow.app, "1001", auth_time=now)
    assert id_token(flow, flow.app.get(back, status=303))["auth_time"] == now


def test_a_host_sign_in_older_than_max_age_after_asking_is_unmet(
    flow: Flow, host: SteppingHost
) -> None:
    earlier = int(time.time()) - 600
    host.sign_in(flow.app, "1001", auth_time=earlier)
    for ask in ({"max_age": "60"}, {"prompt": "login"}):
        query, back = sent_to_host(flow, **ask)
        assert query["prompt"] == ["login"]
        refused = flow.app.get(back, status=303)  # the host did not sign them in again
        error = query_of(refused.headers["Location"])["error"]
        assert error == "unmet_authentication_requirements"


def test_prompt_none_never_goes_to_the_host(flow: Flow, host: SteppingHost) -> None:
    host.sign_in(flow.app, "1001")
    response = flow.start(prompt="none", acr_values=authn.ACR_MFA)
    assert query_of(response.headers["Location"])["error"] == "login_required"


def test_without_a_host_login_page_an_essential_class_is_unmet_without_a_loop(
    root_settings: Settings, storage: Storage, host: SteppingHost, rp: RP
) -> None:
    provider = Provider(root_settings, storage=storage, accounts=host, host_login=host.host_login)
    flow = Flow(_host_app(provider), rp, Person("", "", subject=""), scope="openid")
    host.sign_in(flow.app, "1001")
    started = flow.start(claims=essential(authn.ACR_MFA))
    refused = flow.app.get(started.headers["Location"], status=303)
    assert query_of(refused.headers["Location"])["error"] == "unmet_authentication_requirements"


def test_without_a_host_login_page_the_reported_auth_time_is_checked(
    root_settings: Settings, storage: Storage, host: SteppingHost, rp: RP
) -> None:
    provider = Provider(root_settings, storage=storage, accounts=host, host_login=host.host_login)
    flow = Flow(_host_app(provider), rp, Person("", "", subject=""), scope="openid")
    host.sign_in(flow.app, "1001", auth_time=int(time.time()) - 600)
    started = flow.start(max_age="60")
    refused = flow.app.get(started.headers["Location"], status=303)
    assert query_of(refused.headers["Location"])["error"] == "unmet_authentication_requirements"

    host.sign_in(flow.app, "1001")  # no auth_time reported: met at once, signed in now
    started = flow.start(prompt="login")
    token = id_token(flow, flow.app.get(started.headers["Location"], status=303))
    assert abs(token["auth_time"] - time.time()) < 5
