"""Client secrets through ``ClientAdmin``: reset with and without grace (T-63), and
secrets never in logs, the audit log or the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin.service import MAX_GRACE_SECONDS, ClientNotFound
from oidc_core.registration import InvalidMetadata
from oidc_core.storage.models import ALL_MODELS
from tests.support.client_admin import ACTOR, CB, assert_error, audit_actions, create, sql, userinfo
from tests.support.flow import RP, Account, Flow

# -- helpers -------------------------------------------------------------------------------


def all_stored_text(provider: Provider) -> str:
    """Every cell of every table, as text, for looking for credentials in the clear."""
    cells = []
    for model in ALL_MODELS:
        for row in sql(provider, f"SELECT * FROM {model._meta.table_name}"):
            cells.extend(str(cell) for cell in row)
    return "\n".join(cells)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


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
