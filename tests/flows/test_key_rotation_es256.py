"""ES256 ID tokens per client (``id_token_signed_response_alg``): discovery, the admin API,
and the refusals while there is no ES256 key.  Each test gives the keys back.
"""

from __future__ import annotations

import time

import jwt
import peewee
import pytest

from oidc_core import Provider, keys
from oidc_core.registration import InvalidMetadata
from oidc_core.storage import Storage
from tests.conftest import _MOUNTS, make_client
from tests.support.admin_api import CLIENTS, Api
from tests.support.admin_api import api_token as api_token
from tests.support.flow import RP, Account, Flow
from tests.support.key_rotation import KEY_COLUMNS, RelyingParty, id_token_of, live_kids, worker
from tests.support.key_rotation import saved_keys as saved_keys
from tests.support.mounts import MountedApp

# -- ES256 per client (id_token_signed_response_alg) -----------------------------------------


@pytest.fixture
def es256(storage: Storage) -> None:
    if not live_kids(storage, "current", "ES256"):
        keys.rotate(storage, "ES256", min_next_age=0)
    for provider in _MOUNTS:
        provider.keys.invalidate()


def test_es256_client_gets_es256_id_tokens(
    app: MountedApp, storage: Storage, alice: Account, es256: None
) -> None:
    client = make_client(
        storage, "EC RP", ["https://ec.example/cb"], id_token_signed_response_alg="ES256"
    )
    token = id_token_of(Flow(app, client, alice))
    claims = RelyingParty(client.client_id).verify(app, token, alg="ES256")
    assert claims["sub"] == alice.subject
    header = jwt.get_unverified_header(token)
    assert header["kid"] in live_kids(storage, "current", "ES256")


def test_default_client_stays_rs256_and_discovery_lists_both(
    app: MountedApp, client_a: RP, alice: Account, es256: None
) -> None:
    token = id_token_of(Flow(app, client_a, alice))
    RelyingParty(client_a.client_id).verify(app, token, alg="RS256")
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]


def test_discovery_lists_only_rs256_without_an_es256_key(app: MountedApp) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]


def test_discovery_follows_a_key_added_while_it_runs(storage: Storage, database_url: str) -> None:
    """The document's body is kept between requests: it must change with the algorithms."""
    app = worker(storage, database_url, key_cache_seconds=1)
    path = "/.well-known/openid-configuration"
    assert app.get(path).json["id_token_signing_alg_values_supported"] == ["RS256"]
    keys.create_key_if_missing(storage, "ES256")
    assert app.get(path).json["id_token_signing_alg_values_supported"] == ["RS256"]  # cached
    time.sleep(1.1)
    assert app.get(path).json["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    jwks = app.get("/jwks").json["keys"]
    assert sorted(key["alg"] for key in jwks) == ["ES256", "RS256"]


def test_admin_api_sets_and_validates_the_id_token_algorithm(
    app: MountedApp, storage: Storage, alice: Account, es256: None, api_token: tuple[int, str]
) -> None:
    admin = Api(app, api_token[1])
    created = admin.create(id_token_signed_response_alg="ES256")
    assert created["id_token_signed_response_alg"] == "ES256"
    client = RP(created["client_id"], created["client_secret"], created["redirect_uris"])
    token = id_token_of(Flow(app, client, alice))
    RelyingParty(client.client_id).verify(app, token, alg="ES256")

    for bad in ("PS256", "none", "HS256", 256, ["ES256"]):
        response = admin.call(
            "PATCH", f"{CLIENTS}/{client.client_id}", {"id_token_signed_response_alg": bad},
            status=400,
        )  # fmt: skip
        assert "id_token_signed_response_alg" in response.text
    assert admin.get(client.client_id)["id_token_signed_response_alg"] == "ES256"
    admin.call(
        "PATCH", f"{CLIENTS}/{client.client_id}", {"id_token_signed_response_alg": "RS256"},
        status=200,
    )  # fmt: skip
    assert admin.get(client.client_id)["id_token_signed_response_alg"] == "RS256"
    assert admin.create()["id_token_signed_response_alg"] == "RS256"  # the default


def test_an_es256_client_is_refused_while_there_is_no_es256_key(
    provider: Provider, storage: Storage
) -> None:
    """Its logins would fail at the token endpoint: the admin is told at once instead."""
    assert not live_kids(storage, "current", "ES256")
    with pytest.raises(InvalidMetadata) as refused:
        provider.clients.create(
            {
                "client_name": "EC RP",
                "redirect_uris": ["https://ec.example/cb"],
                "id_token_signed_response_alg": "ES256",
            },
            "cli:tester",
        )
    assert refused.value.field == "id_token_signed_response_alg"
    assert "oidc-core keys rotate --alg ES256" in refused.value.message
    assert provider.clients.search() == []

    keys.rotate(storage, "ES256", min_next_age=0)
    created, _ = provider.clients.create(
        {
            "client_name": "EC RP",
            "redirect_uris": ["https://ec.example/cb"],
            "id_token_signed_response_alg": "ES256",
        },
        "cli:tester",
    )
    assert created.id_token_signed_response_alg == "ES256"


def test_the_database_refuses_a_second_next_or_current_key_of_an_algorithm(
    storage: Storage,
) -> None:
    """The guard behind "exactly one process rotates" is the database's own (a partial
    unique index; on MySQL/MariaDB a unique index on a generated column): retired keys
    are not limited."""
    db = storage.database
    marks = ", ".join([db.param] * 7)
    insert = f"INSERT INTO oidc_signing_key ({KEY_COLUMNS}) VALUES ({marks})"

    def add(kid: str, state: str) -> None:
        with db.atomic():
            db.execute_sql(insert, (kid, "XS1", "pem", state, 1, None, None))

    for kid, state in [("a", "current"), ("b", "next"), ("c", "retired"), ("d", "retired")]:
        add(kid, state)
    for kid, state in [("e", "current"), ("f", "next")]:
        with pytest.raises(peewee.IntegrityError):
            add(kid, state)
    with pytest.raises(peewee.IntegrityError), db.atomic():
        db.execute_sql(
            f"UPDATE oidc_signing_key SET state = 'current' WHERE kid = {db.param}", ("c",)
        )
    with db.atomic():  # retiring the current key makes room for the next one
        db.execute_sql("UPDATE oidc_signing_key SET state = 'retired' WHERE kid = 'a'")
        db.execute_sql("UPDATE oidc_signing_key SET state = 'current' WHERE kid = 'b'")
    states = dict(db.execute_sql("SELECT kid, state FROM oidc_signing_key WHERE alg = 'XS1'"))
    assert states == {"a": "retired", "b": "current", "c": "retired", "d": "retired"}
