"""A host's own accounts (an account source) and its own login session (host login).

The host here is what a billing system would plug in: its users live in its own table
(a dict standing in for it: this is the host's code, not ours), keyed by its own ids,
and it knows who is signed in from its own cookie.  Everything of ours is real.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest
from webob import Request

from oidc_core import Provider, Settings, bearer
from oidc_core.accounts import Account
from oidc_core.storage import Storage
from tests.support.flow import RP, Flow, hidden, query_of, verify_id_token
from tests.support.flow import Account as Person

ROOT_ISSUER = "https://op.example"
HOST_COOKIE = "billing_session"


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class BillingUsers:
    """The host's account source: its customers, by customer number."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, str] = {}  # the host's session cookie -> customer number

    def add(self, number: str, email: str, password: str, **profile: Any) -> Person:
        self.rows[number] = {"email": email, "password": _digest(password), **profile}
        return Person(email, password, subject="")

    def _account(self, number: str) -> Account | None:
        row = self.rows.get(number)
        if row is None:
            return None
        claims = {k: v for k, v in row.items() if k not in ("password", "admin")}
        return Account(number, row["email"], claims, is_admin=row.get("admin", False))

    def by_id(self, account_id: str) -> Account | None:
        return self._account(account_id)

    def by_login(self, login: str) -> Account | None:
        number = next((n for n, row in self.rows.items() if row["email"] == login.lower()), None)
        return self._account(number) if number else None

    def verify_password(self, account: Account | None, password: str) -> bool:
        expected = self.rows[account.id]["password"] if account else _digest("-")
        return hmac.compare_digest(expected, _digest(password)) and account is not None

    def claims(self, account: Account, scopes: Sequence[str]) -> Mapping[str, Any]:
        return {**account.claims, "phone_number": "+1 555 0100", "sub": "host-says-so"}

    def host_login(self, request: Request) -> Account | None:
        number = self.sessions.get(request.cookies.get(HOST_COOKIE, ""))
        return self._account(number) if number else None


@pytest.fixture
def billing() -> BillingUsers:
    users = BillingUsers()
    users.add(
        "1001",
        "carol@billing.example",
        "carol's password",
        name="Carol Customer",
        email_verified=True,
        locale="fr",
    )
    users.add("1002", "dave@billing.example", "dave's password", name="Dave")
    return users


def _host_app(provider: Provider) -> webtest.TestApp:
    return webtest.TestApp(
        provider, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )


@pytest.fixture
def root_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, issuer=ROOT_ISSUER)


@pytest.fixture
def host_provider(root_settings: Settings, storage: Storage, billing: BillingUsers) -> Provider:
    return Provider(root_settings, storage=storage, accounts=billing)


@pytest.fixture
def sso_provider(root_settings: Settings, storage: Storage, billing: BillingUsers) -> Provider:
    return Provider(root_settings, storage=storage, accounts=billing, host_login=billing.host_login)


def user_rows(storage: Storage) -> list[tuple[Any, ...]]:
    cursor = storage.database.execute_sql(
        "SELECT subject, email, external_id, password_hash FROM oidc_user ORDER BY id"
    )
    return [tuple(row) for row in cursor.fetchall()]


def tokens(flow: Flow) -> dict[str, Any]:
    code = flow.code_with_pkce()
    response = flow.token(code)
    assert response.status_int == 200, response.text
    body: dict[str, Any] = response.json
    return body


def userinfo(app: webtest.TestApp, access_token: str, status: int = 200) -> webtest.TestResponse:
    return app.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}, status=status)


# -- an account source -------------------------------------------------------------------


def test_host_accounts_sign_in_with_their_own_password_and_get_a_sub_of_ours(
    host_provider: Provider, storage: Storage, client_a: RP, billing: BillingUsers
) -> None:
    app = _host_app(host_provider)
    carol = Person("carol@billing.example", "carol's password", subject="")
    body = tokens(Flow(app, client_a, carol))
    claims = verify_id_token(app, body["id_token"], client_a.client_id)
    sub = claims["sub"]
    assert sub not in ("1001", "host-says-so") and len(sub) >= 22
    assert user_rows(storage) == [(sub, None, "1001", "")]  # no email, no password kept

    info = userinfo(app, body["access_token"]).json
    assert info == {
        "sub": sub,
        "name": "Carol Customer",
        "locale": "fr",
        "email": "carol@billing.example",
        "email_verified": True,
    }  # only the claims of the granted scopes: no phone_number, and our sub

    again = tokens(Flow(_host_app(host_provider), client_a, carol))
    assert verify_id_token(app, again["id_token"], client_a.client_id)["sub"] == sub
    dave = Person("dave@billing.example", "dave's password", subject="")
    other = tokens(Flow(_host_app(host_provider), client_a, dave))
    assert verify_id_token(app, other["id_token"], client_a.client_id)["sub"] != sub
    assert len(user_rows(storage)) == 2
    assert host_provider.accounts.by_subject(sub) == billing.by_id("1001")


def test_only_granted_scopes_reach_userinfo(host_provider: Provider, client_a: RP) -> None:
    app = _host_app(host_provider)
    carol = Person("carol@billing.example", "carol's password", subject="")
    body = tokens(Flow(app, client_a, carol, scope="openid email"))
    assert set(userinfo(app, body["access_token"]).json) == {"sub", "email", "email_verified"}


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("carol@billing.example", "wrong"),
        ("nobody@billing.example", "carol's password"),
        ("", "carol's password"),
    ],
)
def test_a_wrong_login_is_refused_the_same_way_and_creates_nothing(
    host_provider: Provider, storage: Storage, client_a: RP, email: str, password: str
) -> None:
    app = _host_app(host_provider)
    flow = Flow(app, client_a, Person(email, password, subject=""))
    page = app.get(flow.start().headers["Location"])
    refused = flow.login(page)
    assert refused.status_int == 401
    assert "The email address or password is not correct." in refused.text
    assert user_rows(storage) == []


def test_a_token_stops_working_when_the_host_deletes_the_account(
    host_provider: Provider, client_a: RP, billing: BillingUsers
) -> None:
    app = _host_app(host_provider)
    carol = Person("carol@billing.example", "carol's password", subject="")
    body = tokens(Flow(app, client_a, carol))
    del billing.rows["1001"]
    refused = userinfo(app, body["access_token"], status=401)
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_host_administrator_manages_clients_in_the_console(
    host_provider: Provider, billing: BillingUsers
) -> None:
    billing.rows["1002"]["admin"] = True
    app = _host_app(host_provider)
    form = app.get("/admin/login")
    signed_in = app.post(
        "/admin/login",
        {
            "csrf_token": hidden(form, "csrf_token"),
            "email": "dave@billing.example",
            "password": "dave's password",
        },
    )
    assert signed_in.status_int == 303
    console = app.get("/admin/")
    assert console.status_int == 200 and "dave@billing.example" in console.text

    not_admin = _host_app(host_provider)
    form = not_admin.get("/admin/login")
    not_admin.post(
        "/admin/login",
        {
            "csrf_token": hidden(form, "csrf_token"),
            "email": "carol@billing.example",
            "password": "carol's password",
        },
    )
    assert not_admin.get("/admin/", status=403).status_int == 403


# -- host login (single sign-on) ------------------------------------------------------------


def signed_in_to_host(app: webtest.TestApp, billing: BillingUsers, number: str) -> None:
    cookie = f"host-cookie-{number}"
    billing.sessions[cookie] = number
    app.set_cookie(HOST_COOKIE, cookie)


def test_a_user_signed_in_to_the_host_is_only_asked_to_consent(
    sso_provider: Provider, client_a: RP, billing: BillingUsers
) -> None:
    app = _host_app(sso_provider)
    signed_in_to_host(app, billing, "1001")
    flow = Flow(app, client_a, Person("", "", subject=""))
    started = flow.start()
    assert urlsplit(started.headers["Location"]).path == "/consent"
    consent_page = app.get(started.headers["Location"])
    assert "Signed in as <strong>carol@billing.example</strong>" in consent_page.text
    callback = query_of(flow.consent(consent_page).headers["Location"])
    body = flow.token(callback["code"]).json
    claims = verify_id_token(app, body["id_token"], client_a.client_id)
    assert isinstance(claims["auth_time"], int)

    # consented: the next authorization needs no page at all
    again = query_of(flow.start().headers["Location"])
    assert "code" in again


def test_the_host_is_the_source_of_truth_for_who_is_signed_in(
    sso_provider: Provider, client_a: RP, billing: BillingUsers
) -> None:
    app = _host_app(sso_provider)
    signed_in_to_host(app, billing, "1001")
    flow = Flow(app, client_a, Person("", "", subject=""), scope="openid")
    first = flow.authorize()
    carol_sub = verify_id_token(
        app, flow.token(first["code"]).json["id_token"], client_a.client_id
    )["sub"]

    signed_in_to_host(app, billing, "1002")  # another customer in the same browser
    second = flow.authorize()
    dave_sub = verify_id_token(
        app, flow.token(second["code"]).json["id_token"], client_a.client_id
    )["sub"]
    assert dave_sub != carol_sub

    app.set_cookie(HOST_COOKIE, "signed-out")  # signed out of the host: not signed in here
    none = query_of(flow.start(prompt="none").headers["Location"])
    assert none["error"] == "login_required"
    assert urlsplit(flow.start().headers["Location"]).path == "/login"  # the bundled page


def test_signed_out_users_go_to_the_hosts_login_page_and_come_back(
    root_settings: Settings, storage: Storage, client_a: RP, billing: BillingUsers
) -> None:
    settings = dataclasses.replace(root_settings, host_login_url="/account/login?lang=en")
    provider = Provider(settings, storage=storage, accounts=billing, host_login=billing.host_login)
    app = _host_app(provider)
    flow = Flow(app, client_a, Person("", "", subject=""))
    login = app.get(flow.start().headers["Location"], status=303)
    target = urlsplit(login.headers["Location"])
    assert target.path == "/account/login"
    query = parse_qs(target.query)
    assert query["lang"] == ["en"]
    back = query["next"][0]
    assert back.startswith(f"{ROOT_ISSUER}/login?interaction=")

    signed_in_to_host(app, billing, "1002")  # the host's login page did its work
    consent = app.get(back, status=303)
    assert urlsplit(consent.headers["Location"]).path == "/consent"
    callback = query_of(flow.consent(app.get(consent.headers["Location"])).headers["Location"])
    assert flow.token(callback["code"]).status_int == 200


def test_host_login_url_must_be_a_url_or_a_path(root_settings: Settings) -> None:
    from oidc_core.settings import ConfigurationError

    for bad in ("javascript:alert(1)", "//evil.example/login", "login"):
        with pytest.raises(ConfigurationError, match="host_login_url"):
            dataclasses.replace(root_settings, host_login_url=bad)


def test_an_account_seen_by_many_requests_at_once_gets_one_sub(
    sso_provider: Provider, storage: Storage, client_a: RP, billing: BillingUsers
) -> None:
    """Eight browsers of a customer new to the provider authorize at the same moment."""
    count = 8
    barrier = threading.Barrier(count)

    def authorize(_: int) -> int:
        app = _host_app(sso_provider)
        signed_in_to_host(app, billing, "1001")
        try:
            barrier.wait(timeout=30)
            return Flow(app, client_a, Person("", "", subject="")).start().status_int
        finally:
            storage.release()
            storage.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=count) as pool:
        statuses = list(pool.map(authorize, range(count)))
    assert statuses == [303] * count
    rows = user_rows(storage)
    assert len(rows) == 1 and rows[0][2] == "1001"


def test_the_hosts_api_gets_its_own_account_from_our_access_token(
    host_provider: Provider, client_a: RP, billing: BillingUsers
) -> None:
    app = _host_app(host_provider)
    carol = Person("carol@billing.example", "carol's password", subject="")
    body = tokens(Flow(app, client_a, carol))
    request = Request.blank(
        "/api/orders", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    info = bearer.authenticate(host_provider, request, ["email"])
    assert info.account == billing.by_id("1001")  # the host's key, no lookup of its own
    assert info.subject == verify_id_token(app, body["id_token"], client_a.client_id)["sub"]

    del billing.rows["1001"]
    with pytest.raises(bearer.BearerError) as refused:
        bearer.authenticate(host_provider, request)
    assert refused.value.status == 401 and refused.value.error == "invalid_token"


def test_signed_in_through_the_host_the_consent_page_offers_no_dead_end_switch(
    sso_provider: Provider, client_a: RP, billing: BillingUsers
) -> None:
    """With a host login the host decides who is signed in: our login page would sign the
    same customer in again and come back to this consent page, so "Not you? Use another
    account" is not offered (another account signs in at the host)."""
    app = _host_app(sso_provider)
    signed_in_to_host(app, billing, "1001")
    flow = Flow(app, client_a, Person("", "", subject=""))
    consent_url = flow.start().headers["Location"]
    consent_page = app.get(consent_url)
    assert "Signed in as <strong>carol@billing.example</strong>" in consent_page.text
    assert "Not you?" not in consent_page.text
    # what the link led to: our login page, which sends carol straight back here
    login = app.get("/login", {"interaction": hidden(consent_page, "interaction")}, status=303)
    assert login.headers["Location"] == consent_url
