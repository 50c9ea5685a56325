"""Signing-key rotation without downtime (SECURITY-CHECKLIST R-KY-1, T-75, T-76; conformance
``oidcc-server-rotate-keys``, ``CheckDistinctKeyIdValueInServerJWKs``, ``ValidateJwksSequence``).

"Workers" are extra :class:`Provider` instances on the suite's database, each with its own
key cache (``key_cache_seconds``), as separate processes or hosts would be.  The relying
party verifies every ID token with PyJWT against the JWKS it fetched, and fetches the JWKS
again when it meets an unknown ``kid``, as RPs do.  Each test gives the keys back as they
were.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import peewee
import pytest

from oidc_core import Provider, keys
from oidc_core.records import KeyRecord
from oidc_core.registration import InvalidMetadata
from oidc_core.storage import Storage
from oidc_core.storage.keys import KeyStore, RotationRefused
from tests.conftest import _MOUNTS, FAST_PASSWORDS, make_client, make_user
from tests.flows.test_admin_api import CLIENTS, Api
from tests.flows.test_admin_api import api_token as api_token
from tests.support.flow import RP, Account, Flow
from tests.support.mounts import Mount, MountedApp, settings_for

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
KEY_COLUMNS = "kid, alg, private_pem, state, created_at, activated_at, retired_at"


@pytest.fixture(autouse=True)
def saved_keys(storage: Storage) -> Iterator[None]:
    """The signing keys as they were before the test, restored after it."""
    db = storage.database
    rows = db.execute_sql(f"SELECT {KEY_COLUMNS} FROM oidc_signing_key").fetchall()
    yield
    storage.release()
    marks = ", ".join([db.param] * 7)
    with db.atomic():
        db.execute_sql("DELETE FROM oidc_signing_key")
        for row in rows:
            db.execute_sql(f"INSERT INTO oidc_signing_key ({KEY_COLUMNS}) VALUES ({marks})", row)
    for provider in _MOUNTS:
        provider.keys.invalidate()


def worker(storage: Storage, database_url: str, **options: Any) -> MountedApp:
    """A browser on a new provider (a worker process) sharing the suite's database."""
    settings = settings_for("standalone", database_url, **{**FAST_PASSWORDS, **options})
    provider = Provider(settings, storage=storage)
    return Mount("standalone", "", provider, provider).browser()


def set_key_times(storage: Storage, state: str, **columns: int) -> None:
    db = storage.database
    assignments = ", ".join(f"{name} = {db.param}" for name in columns)
    db.execute_sql(
        f"UPDATE oidc_signing_key SET {assignments} WHERE state = {db.param} AND alg = 'RS256'",
        (*columns.values(), state),
    )


def live_kids(storage: Storage, state: str, alg: str = "RS256") -> list[str]:
    return [r.kid for r in storage.keys.all() if r.state == state and r.alg == alg]


class RelyingParty:
    """Verifies ID tokens with PyJWT; refreshes its JWKS copy on an unknown kid."""

    def __init__(self, audience: str, max_age: float = 3600) -> None:
        self.audience = audience
        self.max_age = max_age  # how long it trusts its copy of the JWKS
        self.jwks: dict[str, dict[str, Any]] = {}
        self.fetched_at = 0.0

    def verify(self, app: MountedApp, id_token: str, alg: str = "RS256") -> dict[str, Any]:
        header = jwt.get_unverified_header(id_token)
        assert header["alg"] == alg and set(header) <= {"alg", "kid", "typ"}, header
        if header["kid"] not in self.jwks or time.monotonic() - self.fetched_at > self.max_age:
            self.fetched_at = time.monotonic()
            self.jwks = {key["kid"]: key for key in app.get("/jwks").json["keys"]}
        key = self.jwks.get(header["kid"])
        assert key is not None, f"kid {header['kid']} is not in the JWKS"
        claims: dict[str, Any] = jwt.decode(
            id_token,
            jwt.PyJWK(key).key,
            algorithms=[alg],
            audience=self.audience,
            issuer=app.issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
        return claims


def id_token_of(flow: Flow) -> str:
    response = flow.token(flow.code_with_pkce())
    assert response.status_int == 200, response.text
    return str(response.json["id_token"])


@pytest.fixture
def rp_client(storage: Storage) -> RP:
    return make_client(storage, "Rotating RP", ["https://rp.example/cb"])


def test_t76_rotation_under_load_never_fails_an_rp(
    storage: Storage, database_url: str, rp_client: RP
) -> None:
    workers = [worker(storage, database_url, key_cache_seconds=1) for _ in range(2)]
    # One user per thread: concurrent first consents of one user race (noted in the report).
    users = [
        make_user(workers[0].mount.provider, f"load{n}@example.com", "a long load password")
        for n in range(4)
    ]
    stop = threading.Event()

    def run_flows(number: int) -> tuple[int, set[str], list[str]]:
        rp = RelyingParty(rp_client.client_id, max_age=0.3)
        apps = [w.new_browser() for w in workers]
        seen: set[str] = set()
        failures: list[str] = []
        count = 0
        try:
            while not stop.is_set():
                app = apps[(number + count) % 2]  # alternate workers, like a load balancer
                try:
                    token = id_token_of(Flow(app, rp_client, users[number]))
                    rp.verify(apps[(number + count + 1) % 2], token)  # JWKS: the other one
                    seen.add(jwt.get_unverified_header(token)["kid"])
                except AssertionError as failure:
                    failures.append(str(failure))
                count += 1
        finally:
            storage.release()
            storage.close()  # this thread's connection
        return count, seen, failures

    with ThreadPoolExecutor(max_workers=4) as pool:
        running = [pool.submit(run_flows, number) for number in range(4)]
        steps = []
        for _ in range(3):  # publish a next key, then promote twice
            # min_next_age=1 s, counted from the end of the second of created_at: 2.1 s.
            time.sleep(2.1)
            steps.append(keys.rotate(storage, "RS256", min_next_age=1))
        time.sleep(1.2)
        stop.set()
        results = [future.result() for future in running]

    assert [failure for _, _, failures in results for failure in failures] == []
    assert [step.promoted is not None for step in steps] == [False, True, True]
    assert all(count >= 2 for count, _, _ in results), results
    kids = set().union(*(seen for _, seen, _ in results))
    assert len(kids) >= 2, "the flows saw no rotation"


def test_workers_pick_up_a_rotation_made_elsewhere_after_the_cache_interval(
    storage: Storage, database_url: str, rp_client: RP
) -> None:
    one, two = (worker(storage, database_url, key_cache_seconds=1) for _ in range(2))
    user = make_user(one.mount.provider, "two@example.com", "a long worker password")
    before = {key["kid"] for key in two.get("/jwks").json["keys"]}
    (old,) = live_kids(storage, "current")

    published = keys.rotate(storage, "RS256", min_next_age=0).published  # "worker one"
    assert published not in {key["kid"] for key in two.get("/jwks").json["keys"]}  # cached
    # Over key_cache_seconds; and min_next_age (1 s) counts from the end of created_at's second.
    time.sleep(2.1)
    assert {key["kid"] for key in two.get("/jwks").json["keys"]} == before | {published}

    keys.rotate(storage, "RS256", min_next_age=1)
    assert jwt.get_unverified_header(id_token_of(Flow(two, rp_client, user)))["kid"] == old
    time.sleep(1.1)
    token = id_token_of(Flow(two, rp_client, user))
    assert jwt.get_unverified_header(token)["kid"] == published
    RelyingParty(rp_client.client_id).verify(one, token)


def test_a_next_key_stamped_with_the_previous_second_is_not_a_second_old(
    storage: Storage,
) -> None:
    """created_at is whole seconds, rounded down: a key published at the end of the previous
    second carries that second and may be milliseconds old.  min_next_age=1 must not promote
    it (the processes that read their keys just before it was published would not serve it
    yet while the others sign with it); it counts from the end of that second."""
    upcoming = keys.rotate(storage, "RS256", min_next_age=0).published
    (old,) = live_kids(storage, "current")
    while time.time() % 1 > 0.5:  # early in a second: the steps below stay in it
        time.sleep(0.01)
    set_key_times(storage, "next", created_at=int(time.time()) - 1)

    with pytest.raises(RotationRefused, match="every process must have seen it first"):
        keys.rotate(storage, "RS256", min_next_age=1)
    assert (live_kids(storage, "current"), live_kids(storage, "next")) == ([old], [upcoming])

    set_key_times(storage, "next", created_at=int(time.time()) - 2)  # over a second ago
    assert keys.rotate(storage, "RS256", min_next_age=1).promoted == upcoming


class PublishedDuringTheReload(KeyStore):
    """The suite's key store, where another process publishes a next key just after this
    process read the keys, and this process is then slow to finish its reload (a new key to
    parse, a busy CPU): the interleaving a loaded host meets now and then."""

    def __init__(self, storage: Storage, slow_seconds: float) -> None:
        self.storage = storage
        self.slow_seconds = slow_seconds
        self.published: list[tuple[str, float]] = []  # (kid, monotonic time)

    def all(self) -> list[KeyRecord]:
        records = super().all()
        if not self.published:
            kid = keys.rotate(self.storage, "RS256", min_next_age=0).published
            self.published.append((kid, time.monotonic()))
            time.sleep(self.slow_seconds)
        return records


def test_a_key_published_during_a_reload_is_served_within_the_cache_interval(
    storage: Storage, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process's keys are as old as its read of the database, not as the end of its reload:
    a key published in between is in its JWKS key_cache_seconds after its publication at the
    latest, the bound a promotion waits for (min_next_age)."""
    app = worker(storage, database_url, key_cache_seconds=1)
    interleaved = PublishedDuringTheReload(storage, slow_seconds=0.5)
    monkeypatch.setattr(storage, "keys", interleaved)
    before = {key["kid"] for key in app.get("/jwks").json["keys"]}  # the reload
    monkeypatch.undo()
    ((kid, published_at),) = interleaved.published
    assert kid not in before  # read before it was published

    time.sleep(max(0.0, published_at + 1.1 - time.monotonic()))  # key_cache_seconds later
    assert kid in {key["kid"] for key in app.get("/jwks").json["keys"]}


def test_t75_jwks_publishes_next_current_and_needed_retired_keys_only(
    storage: Storage, database_url: str
) -> None:
    app = worker(storage, database_url, key_cache_seconds=0)
    (first,) = live_kids(storage, "current")
    keys.rotate(storage, "RS256", min_next_age=0)
    keys.rotate(storage, "RS256", min_next_age=0)
    keys.rotate(storage, "ES256", min_next_age=0)
    jwks = app.get("/jwks").json
    published = [key["kid"] for key in jwks["keys"]]
    assert len(published) == len(set(published)) == 4
    assert set(published) == {r.kid for r in storage.keys.all()}
    assert first in published and live_kids(storage, "retired") == [first]
    for key in jwks["keys"]:
        assert not PRIVATE_MEMBERS & set(key), key
        assert key["use"] == "sig" and key["alg"] in ("RS256", "ES256")
        assert key["kty"] == {"RS256": "RSA", "ES256": "EC"}[key["alg"]]

    # Retired longer ago than the longest ID token lifetime (+ the cache interval): gone.
    set_key_times(storage, "retired", retired_at=int(time.time()) - 3600)
    assert first not in {key["kid"] for key in app.get("/jwks").json["keys"]}
    set_key_times(storage, "retired", retired_at=int(time.time()) - 3590)
    assert first in {key["kid"] for key in app.get("/jwks").json["keys"]}


def test_automatic_rotation_happens_lazily_on_a_request(
    storage: Storage, database_url: str, rp_client: RP
) -> None:
    app = worker(storage, database_url, key_cache_seconds=0, key_rotation_days=30)
    user = make_user(app.mount.provider, "auto@example.com", "a long automatic password")
    (old,) = live_kids(storage, "current")
    app.get("/jwks")  # the first reload publishes a next key
    (upcoming,) = live_kids(storage, "next")
    app.get("/jwks")
    assert live_kids(storage, "current") == [old]  # not due yet

    set_key_times(storage, "current", activated_at=int(time.time()) - 31 * 86400)
    token = id_token_of(Flow(app, rp_client, user))
    assert live_kids(storage, "current") == [upcoming]
    assert live_kids(storage, "retired") == [old]
    assert jwt.get_unverified_header(token)["kid"] == upcoming
    RelyingParty(rp_client.client_id).verify(app, token)


def test_concurrent_automatic_rotations_promote_exactly_once(
    storage: Storage, database_url: str
) -> None:
    app = worker(storage, database_url, key_cache_seconds=0, key_rotation_days=1)
    settings = app.mount.provider.settings
    keys.rotate(storage, "RS256", min_next_age=0)  # publish a next key
    set_key_times(storage, "current", activated_at=int(time.time()) - 2 * 86400)
    set_key_times(storage, "next", created_at=int(time.time()) - 60)
    (old,) = live_kids(storage, "current")
    barrier = threading.Barrier(8)

    def rotate(_: int) -> int:
        try:
            barrier.wait(timeout=30)
            return len(keys.rotate_due(storage, settings))
        finally:
            storage.release()
            storage.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(rotate, range(8)))

    assert sum(done) == 1, done
    assert len(live_kids(storage, "current")) == 1 and len(live_kids(storage, "next")) == 1
    assert live_kids(storage, "retired") == [old]


def test_concurrent_manual_rotations_never_make_two_current_keys(storage: Storage) -> None:
    keys.rotate(storage, "RS256", min_next_age=0)
    barrier = threading.Barrier(8)

    def rotate(_: int) -> str:
        try:
            barrier.wait(timeout=30)
            return "promoted" if keys.rotate(storage, "RS256", min_next_age=0).promoted else "?"
        except RotationRefused:
            return "refused"
        finally:
            storage.release()
            storage.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(rotate, range(8)))

    promoted = outcomes.count("promoted")
    assert promoted >= 1 and promoted + outcomes.count("refused") == 8, outcomes
    assert len(live_kids(storage, "current")) == 1 and len(live_kids(storage, "next")) == 1
    assert len(live_kids(storage, "retired")) == promoted


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
