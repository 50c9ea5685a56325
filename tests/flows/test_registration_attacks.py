"""Dynamic registration refusing what it must (docs/security-checklist.md, "Dynamic
registration", REG-1 to REG-14): each refusal is a clear JSON error and changes nothing,
shown by comparing every row of every table before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Audit, Storage
from tests.conftest import new_app
from tests.support.flow import Account, Flow
from tests.support.race import racing
from tests.support.registration import (
    METADATA,
    REGISTER,
    Registered,
    call,
    issue,
    refused,
    register,
)
from tests.support.snapshot import database

# What is refused does not depend on the mount: one mount.
pytestmark = pytest.mark.mounts("one")


@contextmanager
def unchanged(storage: Storage) -> Iterator[None]:
    before = database(storage)
    yield
    storage.release()
    assert database(storage) == before


def registered(app: webtest.TestApp, provider: Provider, **limits: Any) -> Registered:
    _, token = issue(provider, **limits)
    return Registered(app, register(app, token))


# -- REG-1..REG-4: the initial access token ---------------------------------------------


def test_reg1_no_token_while_open_registration_is_off(
    app: webtest.TestApp, storage: Storage
) -> None:
    with unchanged(storage):
        error = refused(app, "POST", REGISTER, None, METADATA, status=401)
    assert error["error"] == "invalid_token"


@pytest.mark.parametrize(
    "header", ["Basic c2VydmVyOm9uZQ==", "Bearer", "Bearer ", "bearer-token abc"]
)
def test_reg1_not_a_bearer_token(app: webtest.TestApp, storage: Storage, header: str) -> None:
    with unchanged(storage):
        response = app.post(
            "/register",
            params=b"{}",
            content_type="application/json",
            headers={"Authorization": header},
            expect_errors=True,
        )
    assert response.status_int == 401 and response.json["error"] == "invalid_token"


def test_reg2_guessed_token(app: webtest.TestApp, provider: Provider, storage: Storage) -> None:
    _, token = issue(provider)
    for guess in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * len(token), "1"):
        with unchanged(storage):
            assert refused(app, "POST", REGISTER, guess, METADATA, status=401)["error"] == (
                "invalid_token"
            )


def test_reg3_expired_token(app: webtest.TestApp, provider: Provider, storage: Storage) -> None:
    _, token = issue(provider, expires_in=-1)
    with unchanged(storage):
        assert refused(app, "POST", REGISTER, token, METADATA, status=401)["error"] == (
            "invalid_token"
        )


def test_reg3_revoked_token(app: webtest.TestApp, provider: Provider, storage: Storage) -> None:
    token_id, token = issue(provider, uses=5)
    register(app, token)
    provider.storage.initial_access_tokens.revoke(token_id, Audit("cli:tester", "iat.revoke"))
    with unchanged(storage):
        refused(app, "POST", REGISTER, token, METADATA, status=401)


def test_reg4_token_reused_past_its_uses(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    _, token = issue(provider, uses=2)
    register(app, token)
    register(app, token)
    with unchanged(storage):
        refused(app, "POST", REGISTER, token, METADATA, status=401)


def test_reg4_last_use_raced_gives_one_client(provider: Provider, storage: Storage) -> None:
    """Of registrations racing for a token's last use exactly one gets a client."""
    for _ in range(5):
        _, token = issue(provider)
        apps = [new_app(provider) for _ in range(4)]
        with racing(provider, len(apps)) as racer:
            headers = {"Authorization": f"Bearer {token}"}
            responses = racer.run(
                [
                    partial(
                        app.post_json, "/register", METADATA, headers=headers, expect_errors=True
                    )
                    for app in apps
                ]
            )
        assert sorted(r.status_int for r in responses) == [201, 401, 401, 401]
    count = storage.database.execute_sql("SELECT COUNT(*) FROM oidc_client").fetchone()[0]
    assert count == 5


# -- REG-5: an initial access token's limits --------------------------------------------

LIMITS: dict[str, tuple[str, ...]] = {
    "allowed_scopes": ("openid", "email"),
    "allowed_grant_types": ("authorization_code",),
    "allowed_redirect_hosts": ("server1.example",),
}
OVER_LIMITS = [
    ({"scope": "openid email profile"}, "scope", "invalid_client_metadata"),
    (
        {"grant_types": ["authorization_code", "refresh_token"]},
        "grant_types",
        "invalid_client_metadata",
    ),
    ({"redirect_uris": ["https://evil.example/cb"]}, "redirect_uris", "invalid_redirect_uri"),
    (
        {"redirect_uris": ["https://server1.example/cb", "https://server1.example.evil/cb"]},
        "redirect_uris",
        "invalid_redirect_uri",
    ),
    (
        {"post_logout_redirect_uris": ["https://evil.example/"]},
        "post_logout_redirect_uris",
        "invalid_client_metadata",
    ),
    (
        {"backchannel_logout_uri": "https://evil.example/logout"},
        "backchannel_logout_uri",
        "invalid_client_metadata",
    ),
]


@pytest.mark.parametrize(("changes", "field", "code"), OVER_LIMITS)
def test_reg5_over_the_tokens_limits(
    app: webtest.TestApp,
    provider: Provider,
    storage: Storage,
    changes: dict[str, Any],
    field: str,
    code: str,
) -> None:
    _, token = issue(provider, **LIMITS)
    metadata = {
        **METADATA,
        "scope": "openid email",
        "redirect_uris": ["https://server1.example/cb"],
    }
    with unchanged(storage):  # the token is not spent either
        error = refused(app, "POST", REGISTER, token, {**metadata, **changes}, status=400)
    assert error["error"] == code and field in error["error_description"]
    assert "initial access token" in error["error_description"]
    body = register(app, token, metadata)  # within the limits: registered
    assert body["scope"] == "email openid"


def test_reg5_scope_absent_takes_the_allowed_scopes(
    app: webtest.TestApp, provider: Provider
) -> None:
    _, token = issue(provider, **LIMITS)
    body = register(app, token, {"redirect_uris": ["https://SERVER1.example/cb"]})
    assert body["scope"] == "email openid"


@pytest.mark.parametrize("spent", ["revoked", "used up", "expired"])
@pytest.mark.parametrize(("changes", "field", "code"), OVER_LIMITS)
def test_reg5_limits_hold_for_updates_whatever_became_of_the_token(
    app: webtest.TestApp,
    provider: Provider,
    storage: Storage,
    spent: str,
    changes: dict[str, Any],
    field: str,
    code: str,
) -> None:
    token_id, token = issue(provider, **LIMITS)
    metadata = {
        **METADATA,
        "scope": "openid email",
        "redirect_uris": ["https://server1.example/cb"],
    }
    client = Registered(app, register(app, token, metadata))
    if spent == "revoked":
        provider.storage.initial_access_tokens.revoke(token_id, Audit("cli:tester", "iat.revoke"))
    elif spent == "expired":
        storage.database.execute_sql(
            f"UPDATE oidc_initial_access_token SET expires_at = 1 WHERE id = {int(token_id)}"
        )
    shown = {k: v for k, v in client.body.items() if k in METADATA or k == "client_id"}
    with unchanged(storage):
        error = refused(app, "PUT", client.path, client.token, {**shown, **changes}, status=400)
    assert error["error"] == code and field in error["error_description"]
    client.use("PUT", shown)  # the same registration within the limits: accepted


# -- REG-6, REG-7: what a server may not ask for ----------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("skip_consent", True),
        ("skip_consent", False),
        ("require_mfa", False),
        ("access_token_ttl", 86400),
        ("id_token_ttl", 60),
    ],
)
def test_reg6_administrator_fields_refused(
    app: webtest.TestApp, provider: Provider, storage: Storage, field: str, value: Any
) -> None:
    _, token = issue(provider)
    with unchanged(storage):
        error = refused(app, "POST", REGISTER, token, {**METADATA, field: value}, status=400)
    assert error["error"] == "invalid_client_metadata"
    assert error["error_description"] == f"{field}: is set by an administrator, not at registration"
    client = Registered(app, register(app, token))
    shown = {k: v for k, v in client.body.items() if k in METADATA or k == "client_id"}
    with unchanged(storage):
        refused(app, "PUT", client.path, client.token, {**shown, field: value}, status=400)


UNSUPPORTED: list[tuple[str, Any]] = [
    ("id_token_signed_response_alg", "none"),
    ("id_token_signed_response_alg", "HS256"),
    ("userinfo_signed_response_alg", "RS256"),
    ("request_object_signing_alg", "RS256"),
    ("id_token_encrypted_response_alg", "RSA-OAEP"),
    ("id_token_encrypted_response_enc", "A128GCM"),
    ("jwks", {"keys": []}),
    ("jwks_uri", "https://server1.example/jwks"),
    ("token_endpoint_auth_method", "private_key_jwt"),
    ("token_endpoint_auth_method", "client_secret_jwt"),
    ("response_types", ["code", "id_token"]),
    ("response_types", ["token"]),
    ("grant_types", ["implicit"]),
]


@pytest.mark.parametrize(("field", "value"), UNSUPPORTED)
def test_reg7_unsupported_metadata_refused(
    app: webtest.TestApp, provider: Provider, storage: Storage, field: str, value: Any
) -> None:
    _, token = issue(provider)
    with unchanged(storage):
        error = refused(app, "POST", REGISTER, token, {**METADATA, field: value}, status=400)
    assert error["error"] == "invalid_client_metadata"
    assert error["error_description"].startswith(f"{field}: ")


def test_reg7_redirect_uri_with_fragment(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    _, token = issue(provider)
    with unchanged(storage):
        error = refused(
            app,
            "POST",
            REGISTER,
            token,
            {**METADATA, "redirect_uris": ["https://server1.example/cb#x"]},
            status=400,
        )
    assert error["error"] == "invalid_redirect_uri"


# -- REG-8: malformed requests ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"client_name": ', "application/json", 400),
        (b"[]", "application/json", 400),
        (b'"x"', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (
            b'{"redirect_uris": [], "redirect_uris": ["https://x.example/"]}',
            "application/json",
            400,
        ),
        (b"redirect_uris=https://server1.example/cb", "application/x-www-form-urlencoded", 415),
        (b'{"redirect_uris": ["https://server1.example/cb"]}', "text/plain", 415),
        (b"[" * 100_000, "application/json", 413),
        (b'{"client_name": "' + b"n" * 70_000 + b'"}', "application/json", 413),
    ],
)
def test_reg8_malformed_bodies(
    app: webtest.TestApp,
    provider: Provider,
    storage: Storage,
    raw: bytes,
    content_type: str,
    status: int,
) -> None:
    _, token = issue(provider)
    with unchanged(storage):
        response = call(
            app, "POST", REGISTER, token, raw=raw, content_type=content_type, status=status
        )
    assert response.json["error"] in {"invalid_client_metadata", "invalid_request"}
    assert response.json["error_description"] and "Traceback" not in response.text
    client = Registered(app, register(app, token))
    with unchanged(storage):
        call(
            app, "PUT", client.path, client.token, raw=raw, content_type=content_type, status=status
        )
    client.use("GET")  # the refused request did not use the token up


# -- REG-9..REG-13: the registration access token ---------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_reg9_replay_after_rotation(
    app: webtest.TestApp, provider: Provider, storage: Storage, method: str
) -> None:
    client = registered(app, provider)
    old = client.token
    client.use("GET")
    body = {"client_id": client.rp.client_id, "redirect_uris": ["https://evil.example/cb"]}
    with unchanged(storage):
        error = refused(
            app, method, client.path, old, body if method == "PUT" else None, status=401
        )
    assert error["error"] == "invalid_token"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_reg10_another_clients_token(
    app: webtest.TestApp, provider: Provider, storage: Storage, method: str
) -> None:
    mine = registered(app, provider)
    theirs = registered(app, provider)
    body = {"client_id": theirs.rp.client_id, "redirect_uris": ["https://evil.example/cb"]}
    with unchanged(storage):
        refused(app, method, theirs.path, mine.token, body if method == "PUT" else None, status=401)
        refused(app, method, "/register/no-such-client", mine.token, status=401)
        refused(app, method, theirs.path, None, status=401)
    mine.use("GET")
    theirs.use("GET")


def test_reg10_tokens_are_not_interchangeable(
    app: webtest.TestApp, provider: Provider, storage: Storage, client_a: Any
) -> None:
    """An initial access token does not manage a client; a registration access token does
    not register one; an admin-created client has no registration to manage."""
    _, initial = issue(provider, uses=5)
    client = Registered(app, register(app, initial))
    with unchanged(storage):
        refused(app, "GET", client.path, initial, status=401)
        refused(app, "POST", REGISTER, client.token, METADATA, status=401)
        refused(app, "GET", f"/register/{client_a.client_id}", client.token, status=401)


def test_reg11_parallel_puts_with_one_token(provider: Provider, storage: Storage) -> None:
    """Of two changes made with one token only one succeeds; the other changes nothing."""
    app = new_app(provider)
    for _ in range(5):
        client = registered(app, provider)
        apps = [new_app(provider) for _ in range(2)]
        uris = [[f"https://server1.example/cb{n}"] for n in range(2)]

        def put(app: webtest.TestApp, redirect_uris: list[str], client: Registered = client) -> Any:
            body = {"client_id": client.rp.client_id, "redirect_uris": redirect_uris}
            headers = {"Authorization": f"Bearer {client.token}"}
            return app.put_json(client.path, body, headers=headers, expect_errors=True)

        with racing(provider, 2) as racer:
            answers = racer.run([partial(put, apps[n], uris[n]) for n in range(2)])
        assert sorted(a.status_int for a in answers) == [200, 401]
        winner = next(a for a in answers if a.status_int == 200).json
        stored = provider.storage.clients.by_client_id(client.rp.client_id)
        assert stored is not None and list(stored.redirect_uris) == winner["redirect_uris"]
        client.body = winner
        client.use("GET")


def test_reg12_refused_change_keeps_the_token(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    client = registered(app, provider)
    cases = [
        {"client_id": "another", "redirect_uris": METADATA["redirect_uris"]},
        {"redirect_uris": METADATA["redirect_uris"]},
        {
            "client_id": client.rp.client_id,
            "client_secret": "not-the-secret",
            "redirect_uris": METADATA["redirect_uris"],
        },
        {"client_id": client.rp.client_id, "redirect_uris": ["http://server1.example/cb"]},
        {"client_id": client.rp.client_id, "redirect_uris": METADATA["redirect_uris"]}
        | {"reset_secret": "yes"},
        {"client_id": client.rp.client_id, "redirect_uris": METADATA["redirect_uris"]}
        | {"reset_secret": True, "grace_seconds": 10**9},
    ]
    for body in cases:
        with unchanged(storage):
            error = refused(app, "PUT", client.path, client.token, body, status=400)
        assert error["error"] in {
            "invalid_client_metadata",
            "invalid_redirect_uri",
            "invalid_request",
        }
    client.use("GET")


def test_reg13_deleted_client_tokens_and_registration_die(
    app: webtest.TestApp, provider: Provider, storage: Storage, alice: Account
) -> None:
    client = registered(app, provider)
    flow = Flow(app, client.rp, alice)
    tokens = flow.token(flow.authorize()["code"]).json
    token = client.token
    call(app, "DELETE", client.path, token, status=204)
    with unchanged(storage):
        refused(app, "DELETE", client.path, token, status=401)
    info = app.get(
        "/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        expect_errors=True,
    )
    assert info.status_int == 401
