"""Client administration (``ClientAdmin``) and what it changes at the protocol endpoints.

The administrative operations are called on ``provider.clients``, the one implementation
behind the console, the API and the CLI; their effects are observed through HTTP (the
authorization, token and userinfo endpoints) and in the database.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin.service import MAX_GRACE_SECONDS, ClientNotFound
from oidc_core.records import ClientFields
from oidc_core.registration import InvalidMetadata, client_fields
from oidc_core.storage.models import ALL_MODELS
from tests.conftest import make_client
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token

ACTOR = "admin@example.com"
CB = "https://rp.example/cb"
CB_NEW = "https://rp.example/new-cb"


# -- helpers -------------------------------------------------------------------------------


def create(provider: Provider, **metadata: Any) -> RP:
    """A client created through ClientAdmin; the RP as the tests know it."""
    data: dict[str, Any] = {"client_name": "Managed RP", "redirect_uris": [CB]}
    data.update(metadata)
    client, secret = provider.clients.create(data, ACTOR)
    return RP(client.client_id, secret or "", list(client.redirect_uris))


def assert_error(response: webtest.TestResponse, status: int, error: str) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["error"] == error, response.json


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def sql(provider: Provider, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    db = provider.storage.database
    statement = statement.replace("?", db.param)
    return list(db.execute_sql(statement, params).fetchall())


def client_pk(provider: Provider, client_id: str) -> int:
    return int(sql(provider, "SELECT id FROM oidc_client WHERE client_id = ?", client_id)[0][0])


def all_stored_text(provider: Provider) -> str:
    """Every cell of every table, as text, for looking for credentials in the clear."""
    cells = []
    for model in ALL_MODELS:
        for row in sql(provider, f"SELECT * FROM {model._meta.table_name}"):
            cells.extend(str(cell) for cell in row)
    return "\n".join(cells)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def userinfo(app: webtest.TestApp, token: str) -> webtest.TestResponse:
    return app.get("/userinfo", headers={"Authorization": "Bearer " + token}, expect_errors=True)


def audit_actions(provider: Provider, target: str) -> list[str]:
    entries = provider.storage.audit.entries(limit=1000)
    return [entry.action for entry in reversed(entries) if entry.target == target]


# -- reset secret ----------------------------------------------------------------------------


def test_reset_secret_old_secret_fails_and_new_one_works(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider)
    flow = Flow(app, rp, alice)
    code = flow.authorize()["code"]
    old = rp.client_secret
    new = provider.clients.reset_secret(rp.client_id, ACTOR)
    assert new != old and len(new) >= 32

    assert_error(flow.token(code), 401, "invalid_client")
    assert_error(flow.token(code, auth="post"), 401, "invalid_client")
    flow.client.client_secret = new
    response = flow.token(code)
    assert response.status_int == 200, response.text
    assert userinfo(app, response.json["access_token"]).status_int == 200

    stored = sql(
        provider,
        "SELECT secret_digest, previous_secret_digest, previous_secret_expires_at "
        "FROM oidc_client WHERE client_id = ?",
        rp.client_id,
    )
    assert stored == [(sha256(new), None, None)]
    assert audit_actions(provider, rp.client_id) == ["client.create", "client.reset_secret"]


def test_reset_secret_with_grace_period_then_expiry(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider)
    old = rp.client_secret
    new = provider.clients.reset_secret(rp.client_id, ACTOR, grace_seconds=60)
    flow = Flow(app, RP(rp.client_id, old, rp.redirect_uris), alice)

    assert flow.token(flow.authorize()["code"], auth="post").status_int == 200  # old, in grace
    assert flow.token(flow.authorize()["code"]).status_int == 200
    flow.client.client_secret = new
    assert flow.token(flow.authorize()["code"]).status_int == 200

    (until,) = sql(
        provider,
        "SELECT previous_secret_expires_at FROM oidc_client WHERE client_id = ?",
        rp.client_id,
    )[0]
    assert 55 <= until - time.time() <= 61
    past = int(time.time()) - 1
    provider.storage.database.execute_sql(
        f"UPDATE oidc_client SET previous_secret_expires_at = {past}"
    )
    code = flow.authorize()["code"]
    flow.client.client_secret = old
    assert_error(flow.token(code), 401, "invalid_client")
    assert_error(flow.token(code, auth="post"), 401, "invalid_client")
    flow.client.client_secret = new
    assert flow.token(code).status_int == 200


def test_second_reset_ends_the_grace_of_the_first_secret(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """Only the secret just replaced gets a grace period, never the one before it."""
    rp = create(provider)
    first = rp.client_secret
    second = provider.clients.reset_secret(rp.client_id, ACTOR, grace_seconds=60)
    third = provider.clients.reset_secret(rp.client_id, ACTOR, grace_seconds=60)
    flow = Flow(app, RP(rp.client_id, first, rp.redirect_uris), alice)
    code = flow.authorize()["code"]
    assert_error(flow.token(code), 401, "invalid_client")
    flow.client.client_secret = second
    assert flow.token(code).status_int == 200
    flow.client.client_secret = third
    assert flow.token(flow.authorize()["code"]).status_int == 200


def test_reset_secret_refusals(provider: Provider) -> None:
    public = create(provider, token_endpoint_auth_method="none")
    with pytest.raises(InvalidMetadata) as refused:
        provider.clients.reset_secret(public.client_id, ACTOR)
    assert refused.value.field == "token_endpoint_auth_method"
    assert sql(
        provider, "SELECT secret_digest FROM oidc_client WHERE client_id = ?", public.client_id
    ) == [("",)]

    rp = create(provider)
    for grace in (-1, MAX_GRACE_SECONDS + 1, True, 1.5, "60"):
        with pytest.raises(InvalidMetadata) as bad:
            provider.clients.reset_secret(rp.client_id, ACTOR, grace)  # type: ignore[arg-type]
        assert bad.value.field == "grace_seconds"
    assert provider.clients.reset_secret(rp.client_id, ACTOR, MAX_GRACE_SECONDS)
    with pytest.raises(ClientNotFound):
        provider.clients.reset_secret("no-such-client", ACTOR)
    assert audit_actions(provider, public.client_id) == ["client.create"]
    assert audit_actions(provider, rp.client_id) == ["client.create", "client.reset_secret"]


@pytest.mark.parametrize("attempt", range(10))
def test_t63_parallel_double_reset_leaves_exactly_one_secret(
    app: webtest.TestApp, provider: Provider, alice: Account, attempt: int
) -> None:
    rp = create(provider)
    barrier = threading.Barrier(2)

    def reset(_: int) -> str:
        try:
            barrier.wait(timeout=30)
            return provider.clients.reset_secret(rp.client_id, ACTOR)
        finally:
            provider.storage.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        secrets = list(pool.map(reset, range(2)))
    assert len(set(secrets)) == 2

    stored = sql(
        provider,
        "SELECT secret_digest, previous_secret_digest FROM oidc_client WHERE client_id = ?",
        rp.client_id,
    )
    assert len(stored) == 1
    digest, previous = stored[0]
    assert previous is None
    assert digest in {sha256(secret) for secret in secrets}

    flow = Flow(app, rp, alice)
    code = flow.authorize()["code"]
    statuses = []
    for secret in secrets:
        flow.client.client_secret = secret
        statuses.append(flow.token(code).status_int)
    assert sorted(statuses) == [200, 401], statuses
    winner = secrets[statuses.index(200)]
    assert digest == sha256(winner)
    assert audit_actions(provider, rp.client_id).count("client.reset_secret") == 2


# -- delete ------------------------------------------------------------------------------------


def test_delete_client_removes_tokens_codes_and_consents(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    doomed = create(provider, client_name="Doomed")
    kept = create(provider, client_name="Kept")
    tokens = {}
    for rp in (doomed, kept):
        flow = Flow(app, rp, alice)
        response = flow.token(flow.authorize()["code"])
        assert response.status_int == 200
        tokens[rp.client_id] = response.json["access_token"]
    unused = Flow(app, doomed, alice).authorize()["code"]  # a code never redeemed
    pk = client_pk(provider, doomed.client_id)
    for table in ("oidc_access_token", "oidc_authorization_code", "oidc_consent"):
        assert sql(provider, f"SELECT COUNT(*) FROM {table} WHERE client_id = ?", pk)[0][0] >= 1

    provider.clients.delete(doomed.client_id, ACTOR)

    assert userinfo(app, tokens[doomed.client_id]).status_int == 401
    assert userinfo(app, tokens[kept.client_id]).status_int == 200
    for table in ("oidc_access_token", "oidc_authorization_code", "oidc_consent"):
        assert sql(provider, f"SELECT COUNT(*) FROM {table} WHERE client_id = ?", pk) == [(0,)]
    assert sql(provider, "SELECT COUNT(*) FROM oidc_consent") == [(1,)]
    assert provider.storage.clients.by_client_id(doomed.client_id) is None
    flow = Flow(app, doomed, alice)
    assert_error(flow.token(unused), 401, "invalid_client")
    assert flow.start().status_int == 400  # an unknown client: an error page
    entry = provider.storage.audit.entries()[0]
    assert (entry.action, entry.target, entry.actor) == ("client.delete", doomed.client_id, ACTOR)
    with pytest.raises(ClientNotFound):
        provider.clients.delete(doomed.client_id, ACTOR)
    with pytest.raises(ClientNotFound):
        provider.clients.delete("no-such-client", ACTOR)
    assert audit_actions(provider, doomed.client_id) == ["client.create", "client.delete"]


# -- public clients --------------------------------------------------------------------------


def test_public_client_needs_pkce_and_no_secret(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client, secret = provider.clients.create(
        {"client_name": "SPA", "redirect_uris": [CB], "token_endpoint_auth_method": "none"},
        ACTOR,
    )
    assert secret is None and client.is_public and client.require_pkce
    rp = RP(client.client_id, "", [CB])
    flow = Flow(app, rp, alice)

    refused = flow.start(state="s1")
    assert refused.status_int == 302
    query = query_of(refused.headers["Location"])
    assert refused.headers["Location"].startswith(CB + "?")
    assert (query["error"], query["state"], query["iss"]) == ("invalid_request", "s1", flow.issuer)

    nonce = "n-0S6_WzA2Mj"
    code = flow.code_with_pkce(nonce=nonce)
    assert_error(flow.token(code, auth="none"), 401, "invalid_client")  # not even a client_id
    assert_error(flow.token(code, auth="none", client_id=rp.client_id, code_verifier=None), 400,
                 "invalid_grant")  # fmt: skip
    response = flow.token(code, auth="none", client_id=rp.client_id)
    assert response.status_int == 200, response.text
    body = response.json
    assert body["token_type"] == "Bearer"
    claims = verify_id_token(app, body["id_token"], rp.client_id)
    assert claims["sub"] == alice.subject and claims["nonce"] == nonce
    assert userinfo(app, body["access_token"]).json["sub"] == alice.subject


@pytest.mark.parametrize("secret", ["anything", "", "x" * 43])
@pytest.mark.parametrize("auth", ["basic", "post"])
def test_public_client_presenting_a_secret_is_refused(
    app: webtest.TestApp, provider: Provider, alice: Account, secret: str, auth: str
) -> None:
    rp = create(provider, token_endpoint_auth_method="none")
    flow = Flow(app, RP(rp.client_id, secret, rp.redirect_uris), alice)
    code = flow.code_with_pkce()
    assert_error(flow.token(code, auth=auth), 401, "invalid_client")
    # the code was not consumed by the refusals
    assert flow.token(code, auth="none", client_id=rp.client_id).status_int == 200


def test_confidential_client_without_a_secret_is_refused(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert_error(flow.token(code, auth="none", client_id=flow.client.client_id), 401,
                 "invalid_client")  # fmt: skip
    flow.verifier = None
    assert flow.token(code).status_int == 200


def test_switching_between_public_and_confidential(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider)
    old_secret = rp.client_secret
    provider.clients.update(rp.client_id, {"token_endpoint_auth_method": "none"}, ACTOR)
    row = sql(
        provider,
        "SELECT secret_digest, is_public, require_pkce FROM oidc_client WHERE client_id = ?",
        rp.client_id,
    )[0]
    assert row[0] == "" and row[1] and row[2]
    flow = Flow(app, rp, alice)
    code = flow.code_with_pkce()
    assert_error(flow.token(code), 401, "invalid_client")  # the old secret died with the switch
    assert flow.token(code, auth="none", client_id=rp.client_id).status_int == 200

    updated = provider.clients.update(
        rp.client_id, {"token_endpoint_auth_method": "client_secret_basic"}, ACTOR
    )
    assert not updated.is_public
    # No secret works until one is issued: not the old one, not an empty one.
    code = flow.code_with_pkce()
    for candidate in (old_secret, ""):
        flow.client.client_secret = candidate
        assert_error(flow.token(code), 401, "invalid_client")
    assert_error(flow.token(code, auth="none", client_id=rp.client_id), 401, "invalid_client")
    flow.client.client_secret = provider.clients.reset_secret(rp.client_id, ACTOR)
    assert flow.token(code).status_int == 200


# -- per-client lifetimes ------------------------------------------------------------------------


def _tokens(app: webtest.TestApp, rp: RP, alice: Account) -> dict[str, Any]:
    flow = Flow(app, rp, alice)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    body: dict[str, Any] = response.json
    return body


def test_per_client_token_lifetimes(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    short = create(provider, client_name="Short", access_token_ttl=120, id_token_ttl=300)
    default = create(provider, client_name="Default", access_token_ttl=None, id_token_ttl=None)
    assert provider.settings.access_token_ttl == provider.settings.id_token_ttl == 3600

    for rp, access_ttl, id_ttl in ((short, 120, 300), (default, 3600, 3600)):
        before = int(time.time())
        body = _tokens(app, rp, alice)
        after = int(time.time())
        assert body["expires_in"] == access_ttl
        claims = verify_id_token(app, body["id_token"], rp.client_id)
        assert claims["exp"] - claims["iat"] == id_ttl
        ((expires_at, created_at),) = sql(
            provider,
            "SELECT t.expires_at, t.created_at FROM oidc_access_token t "
            "JOIN oidc_client c ON c.id = t.client_id WHERE c.client_id = ?",
            rp.client_id,
        )
        assert expires_at - created_at == access_ttl
        assert before + access_ttl <= expires_at <= after + access_ttl

    provider.clients.update(short.client_id, {"access_token_ttl": None}, ACTOR)
    body = _tokens(app, short, alice)
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300  # the other lifetime is kept


def test_an_expired_short_lived_token_is_refused(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider, access_token_ttl=60)
    token = _tokens(app, rp, alice)["access_token"]
    assert userinfo(app, token).status_int == 200
    provider.storage.database.execute_sql(
        f"UPDATE oidc_access_token SET expires_at = {int(time.time()) - 1}"
    )
    assert userinfo(app, token).status_int == 401


# -- allowed scopes and consent -------------------------------------------------------------


def test_allowed_scopes_limit_what_is_granted(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider, scope="openid email")
    flow = Flow(app, rp, alice, scope="openid profile email")
    body = flow.token(flow.authorize()["code"]).json
    assert body["scope"].split() == ["openid", "email"]
    info = userinfo(app, body["access_token"]).json
    assert info["email"] == alice.email and info["email_verified"] is True
    assert not {"name", "given_name", "family_name", "preferred_username", "locale"} & set(info)
    claims = verify_id_token(app, body["id_token"], rp.client_id)
    assert "name" not in claims


def test_skip_consent_issues_a_code_without_a_consent_page(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    first_party = create(provider, client_name="First party", skip_consent=True)
    third_party = create(provider, client_name="Third party")
    flow = Flow(app, first_party, alice)
    login_page = app.get(flow.start().headers["Location"])
    after_login = flow.login(login_page)
    assert after_login.status_int in (302, 303)
    assert after_login.headers["Location"].startswith(CB + "?")  # no consent page
    assert "code" in query_of(after_login.headers["Location"])

    again = flow.start()  # logged in: straight back with a code
    assert again.status_int == 302 and "code" in query_of(again.headers["Location"])
    assert flow.token(query_of(again.headers["Location"])["code"]).status_int == 200

    other = Flow(app, third_party, alice).start()  # same browser, an ordinary client
    assert other.status_int in (302, 303)
    assert "/consent" in other.headers["Location"]

    provider.clients.update(first_party.client_id, {"skip_consent": False}, ACTOR)
    assert "/consent" in flow.start().headers["Location"]


# -- update ------------------------------------------------------------------------------------


def test_update_keeps_unspecified_fields(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(
        provider,
        client_name="Before",
        description="kept",
        client_uri="https://rp.example",
        logo_uri="/static/logo.png",
        redirect_uris=[CB, CB_NEW],
        scope="openid email",
        require_pkce=True,
        skip_consent=True,
        access_token_ttl=600,
        id_token_ttl=900,
    )
    before = provider.clients.get(rp.client_id)
    digest = before.secret_digest
    updated = provider.clients.update(rp.client_id, {"client_name": "  After  "}, ACTOR)
    assert updated.name == "After"
    assert ClientFields.of(updated) == dataclasses.replace(ClientFields.of(before), name="After")
    assert updated.secret_digest == digest
    assert updated.created_at == before.created_at and updated.updated_at >= before.updated_at
    assert provider.clients.get(rp.client_id) == updated
    entry = provider.storage.audit.entries()[0]
    assert (entry.action, entry.target, entry.details) == (
        "client.update",
        rp.client_id,
        {"fields": ["client_name"], "client_name": "After"},
    )
    flow = Flow(app, rp, alice, scope="openid email")
    assert flow.token(flow.code_with_pkce()).status_int == 200  # the secret still works


def test_invalid_update_changes_nothing(provider: Provider) -> None:
    rp = create(provider)
    before = provider.clients.get(rp.client_id)
    with pytest.raises(InvalidMetadata) as refused:
        provider.clients.update(
            rp.client_id, {"client_name": "New", "redirect_uris": ["http://evil.example/"]}, ACTOR
        )
    assert refused.value.field == "redirect_uris"
    assert provider.clients.get(rp.client_id) == before
    assert audit_actions(provider, rp.client_id) == ["client.create"]
    with pytest.raises(ClientNotFound):
        provider.clients.update("no-such-client", {"client_name": "X"}, ACTOR)
    with pytest.raises(ClientNotFound):
        provider.clients.get("")


def test_update_redirect_uris_makes_the_old_one_an_error(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider)
    flow = Flow(app, rp, alice)
    assert "code" in flow.authorize()
    provider.clients.update(rp.client_id, {"redirect_uris": [CB_NEW]}, ACTOR)

    old = flow.start(redirect_uri=CB)
    assert old.status_int == 400 and "Location" not in old.headers
    assert old.content_type == "text/html"
    flow.client.redirect_uris = [CB_NEW]
    callback = flow.authorize()
    assert "code" in callback
    assert flow.token(callback["code"]).status_int == 200


# -- secrets never in logs, the audit log or the database -----------------------------------


def test_secrets_are_never_logged_audited_or_stored(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="oidc_core")
    client, first = provider.clients.create(
        {"client_name": "Secretive", "redirect_uris": [CB], "description": "d"}, ACTOR
    )
    assert first is not None
    provider.clients.update(client.client_id, {"description": "changed"}, ACTOR)
    second = provider.clients.reset_secret(client.client_id, ACTOR, grace_seconds=60)
    third = provider.clients.reset_secret(client.client_id, ACTOR)
    provider.clients.search("Secretive")
    secrets = (first, second, third)

    entries = provider.storage.audit.entries()
    assert [entry.action for entry in reversed(entries)] == [
        "client.create",
        "client.update",
        "client.reset_secret",
        "client.reset_secret",
    ]
    audited = json.dumps([vars(entry) for entry in entries])
    stored = all_stored_text(provider)
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in audited
        assert sha256(secret) not in audited
        assert secret not in stored
    assert sha256(third) in stored
    assert "secret" not in audited.replace("reset_secret", "")


def test_secret_in_grace_is_stored_only_as_a_digest(provider: Provider) -> None:
    rp = create(provider)
    new = provider.clients.reset_secret(rp.client_id, ACTOR, grace_seconds=3600)
    stored = all_stored_text(provider)
    assert rp.client_secret not in stored and new not in stored
    row = sql(
        provider,
        "SELECT secret_digest, previous_secret_digest FROM oidc_client WHERE client_id = ?",
        rp.client_id,
    )
    assert row == [(sha256(new), sha256(rp.client_secret))]
    assert "previous_secret" not in repr(provider.clients.get(rp.client_id)).replace(
        "previous_secret_expires_at", ""
    )


# -- search ------------------------------------------------------------------------------------


def test_search_filter_sort_and_paging(provider: Provider) -> None:
    names = ["Charlie app", "Alpha app", "Bravo tool", "Delta APP"]
    created = {}
    for name in names:
        created[name] = create(provider, client_name=name)
        time.sleep(0.01)

    def found(**kwargs: Any) -> list[str]:
        return [client.name for client, _ in provider.clients.search(**kwargs)]

    assert found() == ["Alpha app", "Bravo tool", "Charlie app", "Delta APP"]
    # " app" has a space, which no client ID (letters and digits) holds: only names can match.
    assert found(text=" app") == ["Alpha app", "Charlie app", "Delta APP"]
    assert found(text=" APP", sort="name") == found(text=" app", sort="name")
    assert found(text="nothing matches") == []
    some_id = created["Bravo tool"].client_id
    assert found(text=some_id) == ["Bravo tool"]

    by_name = found(sort="name")
    assert found(sort="-name") == list(reversed(by_name))
    assert found(sort="name", limit=2) == by_name[:2]
    assert found(sort="name", limit=2, offset=2) == by_name[2:]
    assert found(sort="name", offset=10) == []
    by_id = found(sort="client_id")
    assert by_id == sorted(names, key=lambda name: created[name].client_id)
    assert found(sort="-client_id") == list(reversed(by_id))

    provider.clients.update(created["Alpha app"].client_id, {"description": "touched"}, ACTOR)
    provider.storage.database.execute_sql(
        "UPDATE oidc_client SET updated_at = updated_at - 1000, created_at = created_at - 1000 "
        "WHERE name <> 'Alpha app'"
    )
    assert found(sort="-updated_at")[0] == "Alpha app"
    assert found(sort="updated_at")[-1] == "Alpha app"
    assert found(sort="created_at")[-1] == "Alpha app"
    assert found(sort="-created_at")[0] == "Alpha app"

    for kwargs, field in (
        ({"sort": "secret_digest"}, "sort"),
        ({"sort": "-password"}, "sort"),
        ({"sort": ""}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        with pytest.raises(InvalidMetadata) as refused:
            provider.clients.search(**kwargs)
        assert refused.value.field == field
        assert str(refused.value).startswith(field + ":")


def test_search_reports_when_each_client_was_last_used(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    used = create(provider, client_name="Used")
    create(provider, client_name="Unused")

    def last_used() -> dict[str, int | None]:
        return {client.name: at for client, at in provider.clients.search()}

    assert last_used() == {"Used": None, "Unused": None}
    _tokens(app, used, alice)
    provider.storage.database.execute_sql("UPDATE oidc_access_token SET created_at = 1000")
    assert last_used() == {"Used": 1000, "Unused": None}
    before = int(time.time())
    _tokens(app, used, alice)
    at = last_used()["Used"]
    assert at is not None and before <= at <= time.time()
    assert last_used()["Unused"] is None


# -- the validation corpus (registration.client_fields) ---------------------------------------

BASE = {"client_name": "Corpus", "redirect_uris": ["https://rp.example/cb"]}


def refused_field(**metadata: Any) -> str:
    data = {**BASE, **metadata}
    with pytest.raises(InvalidMetadata) as refused:
        client_fields(data)
    assert str(refused.value).startswith(refused.value.field + ": ")
    return refused.value.field


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb#fragment",
        "https://rp.example/cb#",
        "javascript:alert(1)",
        "javascript://rp.example/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://rp.example/cb",
        "custom.scheme:/cb",
        "http://rp.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://localhost.evil.example/cb",
        "*",
        "https://*.rp.example/cb",
        "https://rp.example/*",
        "/relative/cb",
        "//rp.example/cb",
        "rp.example/cb",
        "",
        " https://rp.example/cb",
        "https://rp.example/cb ",
        "https://rp.example/c b",
        "https://rp.example/cb\n",
        "https://rp.example/cb\t",
        "https://rp.example/\x00",
        "https://rp.example\\@evil.example/cb",
        "https://user@rp.example/cb",
        "https://user:pw@rp.example/cb",
        "https://rp.example:99999/cb",
        "https://rp.example:port/cb",
        "https:///cb",
        "https://rp.example/" + "a" * 2030,
    ],
)
def test_t62_refused_redirect_uris(uri: str) -> None:
    assert refused_field(redirect_uris=[uri]) == "redirect_uris"
    assert refused_field(redirect_uris=["https://rp.example/ok", uri]) == "redirect_uris"


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb",
        "https://rp.example/cb?x=1&y=2",
        "https://rp.example:8443/cb",
        "http://127.0.0.1:9000/callback",
        "http://localhost:9000/callback",
        "http://[::1]:9000/cb",
        "http://127.0.0.2/cb",
        "https://rp.example/" + "a" * (2048 - len("https://rp.example/")),
    ],
)
def test_t62_accepted_redirect_uris(uri: str) -> None:
    assert client_fields({**BASE, "redirect_uris": [uri]}).redirect_uris == (uri,)


def test_t62_redirect_uri_lists() -> None:
    uris = [f"https://rp.example/cb{i}" for i in range(20)]
    assert client_fields({**BASE, "redirect_uris": uris}).redirect_uris == tuple(uris)
    assert refused_field(redirect_uris=[*uris, "https://rp.example/cb20"]) == "redirect_uris"
    assert refused_field(redirect_uris=[CB, CB]) == "redirect_uris"
    assert refused_field(redirect_uris=[]) == "redirect_uris"
    assert refused_field(redirect_uris=CB) == "redirect_uris"  # a string, not a list
    assert refused_field(redirect_uris=[CB, 1]) == "redirect_uris"
    assert refused_field(redirect_uris=None) == "redirect_uris"


@pytest.mark.parametrize(
    ("logo", "accepted"),
    [
        ("/modules/servers/cpanel/logo.png", True),
        ("https://rp.example/logo.png", True),
        ("", True),
        ("//evil.example/x.png", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("http://rp.example/logo.png", False),
        ("/path with space.png", False),
        ("/x.png#frag", False),
        ("/\\evil.example/x.png", False),
        ("logo.png", False),
    ],
)
def test_logo_uri(logo: str, accepted: bool) -> None:
    if accepted:
        assert client_fields({**BASE, "logo_uri": logo}).logo_uri == logo
    else:
        assert refused_field(logo_uri=logo) == "logo_uri"


def test_client_uri() -> None:
    assert client_fields({**BASE, "client_uri": "https://rp.example"}).client_uri == (
        "https://rp.example"
    )
    for bad in ("javascript:alert(1)", "/relative", "//evil.example", "http://rp.example"):
        assert refused_field(client_uri=bad) == "client_uri"


def test_name_and_description() -> None:
    data: dict[str, Any] = {"redirect_uris": [CB]}
    with pytest.raises(InvalidMetadata) as missing:
        client_fields(data)
    assert missing.value.field == "client_name"
    with pytest.raises(InvalidMetadata) as no_uris:
        client_fields({"client_name": "X"})
    assert no_uris.value.field == "redirect_uris"
    for bad in ("", "   ", "x" * 256, None, 5):
        assert refused_field(client_name=bad) == "client_name"
    assert client_fields({**BASE, "client_name": "x" * 255}).name == "x" * 255
    assert client_fields({**BASE, "client_name": " Trim me "}).name == "Trim me"
    assert client_fields({**BASE, "description": "d" * 2000}).description == "d" * 2000
    assert refused_field(description="d" * 2001) == "description"


def test_scope() -> None:
    assert client_fields({**BASE, "scope": "openid"}).allowed_scopes == "openid"
    assert client_fields({**BASE, "scope": "email openid  email"}).allowed_scopes == "email openid"
    assert client_fields(BASE).allowed_scopes == "openid profile email"
    for bad in ("profile email", "", "openid offline", "openid admin", "OPENID", 3):
        assert refused_field(scope=bad) == "scope"


def test_grant_and_response_types_and_auth_method() -> None:
    assert client_fields({**BASE, "grant_types": ["authorization_code"]})
    assert client_fields({**BASE, "response_types": ["code"]})
    for grants in (["implicit"], ["refresh_token"], ["client_credentials"],
                   ["authorization_code", "password"], [], "authorization_code",
                   [3]):  # fmt: skip
        assert refused_field(grant_types=grants) == "grant_types"
    full = ["client_credentials", "refresh_token", "authorization_code"]
    assert client_fields({**BASE, "grant_types": full}).grant_types == (
        "authorization_code",
        "refresh_token",
        "client_credentials",
    )
    as_public = {**BASE, "token_endpoint_auth_method": "none"}
    assert client_fields({**as_public, "grant_types": full[1:]}).grant_types[1] == "refresh_token"
    assert refused_field(**as_public, grant_types=full) == "grant_types"
    for types in (["token"], ["code id_token"], ["code", "token"], [], "code"):
        assert refused_field(response_types=types) == "response_types"

    assert not client_fields(
        {**BASE, "token_endpoint_auth_method": "client_secret_basic"}
    ).is_public
    assert not client_fields({**BASE, "token_endpoint_auth_method": "client_secret_post"}).is_public
    public = client_fields({**BASE, "token_endpoint_auth_method": "none"})
    assert public.is_public and public.require_pkce
    for method in ("private_key_jwt", "client_secret_jwt", "tls_client_auth", "", None, "NONE"):
        assert refused_field(token_endpoint_auth_method=method) == "token_endpoint_auth_method"


def test_public_implies_pkce() -> None:
    fields = client_fields({**BASE, "token_endpoint_auth_method": "none", "require_pkce": False})
    assert fields.is_public and fields.require_pkce
    current = client_fields(BASE)
    assert not current.require_pkce
    made_public = client_fields({"token_endpoint_auth_method": "none"}, current)
    assert made_public.is_public and made_public.require_pkce
    still = client_fields({"require_pkce": False}, made_public)
    assert still.require_pkce


@pytest.mark.parametrize("key", ["access_token_ttl", "id_token_ttl"])
def test_ttl_bounds(key: str) -> None:
    for good in (60, 61, 3600, 86400):
        assert getattr(client_fields({**BASE, key: good}), key) == good
    assert getattr(client_fields({**BASE, key: None}), key) is None
    for bad in (59, 0, -60, 86401, True, False, 60.0, "120", [120]):
        assert refused_field(**{key: bad}) == key


@pytest.mark.parametrize("key", ["require_pkce", "skip_consent"])
def test_flags(key: str) -> None:
    assert getattr(client_fields({**BASE, key: True}), key) is True
    for bad in (1, "true", None, "yes"):
        assert refused_field(**{key: bad}) == key


def test_unknown_fields_are_refused() -> None:
    for key in ("client_secret", "client_id", "is_admin", "jwks_uri", "secret_digest", "Scope"):
        assert refused_field(**{key: "x"}) == key
    current = client_fields(BASE)
    with pytest.raises(InvalidMetadata) as on_update:
        client_fields({"client_name": "X", "client_secret": "s"}, current)
    assert on_update.value.field == "client_secret"


def test_update_validation_keeps_absent_keys() -> None:
    current = client_fields(
        {**BASE, "description": "keep", "access_token_ttl": 120, "skip_consent": True}
    )
    changed = client_fields({"description": None, "access_token_ttl": None}, current)
    assert changed.description == "" and changed.access_token_ttl is None
    assert changed.skip_consent and changed.name == "Corpus"
    assert client_fields({}, current) == current


def test_make_client_fixture_accepts_the_policy_fields(provider: Provider) -> None:
    rp = make_client(
        provider.storage, "Policy", [CB], is_public=True, require_pkce=True, access_token_ttl=120
    )
    client = provider.clients.get(rp.client_id)
    assert rp.client_secret == ""
    assert client.is_public and client.require_pkce and client.access_token_ttl == 120
