"""Deleting, updating and searching clients through ``ClientAdmin``, observed at the
protocol endpoints and in the database.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin.service import ClientNotFound
from oidc_core.records import ClientFields
from oidc_core.registration import InvalidMetadata
from tests.support.client_admin import (
    ACTOR,
    CB,
    _tokens,
    assert_error,
    audit_actions,
    create,
    sql,
    userinfo,
)
from tests.support.flow import Account, Flow

CB_NEW = "https://rp.example/new-cb"


def client_pk(provider: Provider, client_id: str) -> int:
    return int(sql(provider, "SELECT id FROM oidc_client WHERE client_id = ?", client_id)[0][0])


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
