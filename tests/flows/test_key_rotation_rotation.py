"""Signing-key rotation without downtime (R-KY-1, T-75, T-76; conformance
``oidcc-server-rotate-keys``, ``CheckDistinctKeyIdValueInServerJWKs``, ``ValidateJwksSequence``).

"Workers" are extra :class:`Provider` instances on the suite's database, each with its
own key cache; the relying party verifies every ID token against the JWKS it fetched.
Each test gives the keys back as they were.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from oidc_core import keys
from oidc_core.records import KeyRecord
from oidc_core.storage import Storage
from oidc_core.storage.keys import KeyStore, RotationRefused
from tests.conftest import make_client, make_user
from tests.support.flow import RP, Flow
from tests.support.key_rotation import RelyingParty, id_token_of, live_kids, worker
from tests.support.key_rotation import saved_keys as saved_keys

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


def set_key_times(storage: Storage, state: str, **columns: int) -> None:
    db = storage.database
    assignments = ", ".join(f"{name} = {db.param}" for name in columns)
    db.execute_sql(
        f"UPDATE oidc_signing_key SET {assignments} WHERE state = {db.param} AND alg = 'RS256'",
        (*columns.values(), state),
    )


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
