"""Fixtures: a real provider on a real database (SQLite by default, PostgreSQL with
``OIDC_TEST_DATABASE_URL``), WebTest apps, registered clients and users.

The tests under ``tests/flows/`` run under every mount (``tests/support/mounts.py``):
standalone, WSGI middleware, Pyramid and Bottle, the last three under ``/oidc``.  The
``app`` fixture is a browser on the mount; ``issuer`` is the mount's issuer.  A module
that exercises nothing a mount changes is marked ``mounts("one")`` and runs under the first
selected mount only (see :func:`pytest_generate_tests`).

Every test starts from empty tables (the signing key stays) and ends with the
"nothing lost" invariants checked in SQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_core import Provider, Settings, backchannel
from oidc_core.keys import create_key_if_missing
from oidc_core.records import ClientFields
from oidc_core.storage import Storage
from oidc_core.storage.models import ALL_MODELS
from tests.support.flow import RP, Account, Flow
from tests.support.interop import relying_party_libraries
from tests.support.listener import listener  # noqa: F401
from tests.support.mounts import MOUNTS, SELECTED, Mount, MountedApp, build, settings_for
from tests.support.proxy import proxy  # noqa: F401
from tests.support.receiver import receiver  # noqa: F401
from tests.support.smtp import mailbox, ssl_mailbox, starttls_mailbox  # noqa: F401

# The live provider over https (a throwaway CA) and http, for the relying-party libraries.
from tests.support.tls import https_provider, live_provider, tls_files  # noqa: F401

# the signing key and the pairwise salt (subjects.py) live as long as the database
KEEP_TABLES = {"oidc_signing_key", "oidc_schema_version", "oidc_provider_secret"}

# Cheap argon2id parameters: the tests exercise the real hasher, not its cost.
FAST_PASSWORDS = {"password_time_cost": 1, "password_memory_cost": 1024}
# The suite's relying parties listen on 127.0.0.1, where a provider with a public issuer
# (https://op.example) sends no back-channel logout token unless told it may.
LOOPBACK_RPS = {"backchannel_allow_private_addresses": True}


def pytest_report_header() -> list[str]:
    url = os.environ.get("OIDC_TEST_DATABASE_URL", "sqlite (temporary file)")
    return [f"oidc-core test database: {_redact(url)}", relying_party_libraries()]


def _redact(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("OIDC_TEST_DATABASE_URL")
    if url:
        return url
    path: Path = tmp_path_factory.mktemp("db") / "oidc-test.db"
    return f"sqlite:///{path}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every flow test that uses the provider runs once per selected mount; elsewhere on
    the provider on its own.  Both are parameters: a session fixture built from an
    unparametrized ``mount_name`` (a test outside ``tests/flows/`` running first) would be
    reused for every mount.

    A flow test marked ``mounts("one")`` (a module's ``pytestmark``) never touches what a
    mount changes (the prefix, the host framework's WSGI glue) and runs under the first
    selected mount only; ``mounts("every")`` on one of its tests puts it back under all."""
    if "mount_name" in metafunc.fixturenames:
        in_flows = metafunc.definition.path.parent.name == "flows"
        marker = metafunc.definition.get_closest_marker("mounts")
        if marker is not None and marker.args not in {("one",), ("every",)}:
            raise pytest.UsageError(f'mounts(...) takes "one" or "every": {marker.args}')
        one = marker is not None and marker.args == ("one",)
        names = (SELECTED[:1] if one else SELECTED) if in_flows else MOUNTS[:1]
        metafunc.parametrize("mount_name", names, scope="session")


@pytest.fixture(scope="session")
def mount_name() -> str:
    """Outside ``tests/flows/``: the provider on its own."""
    return MOUNTS[0]


@pytest.fixture(scope="session")
def storage(database_url: str) -> Iterator[Storage]:
    storage = Storage(database_url)
    if not database_url.startswith("sqlite"):
        storage.database.drop_tables(ALL_MODELS, cascade=True, safe=True)
    storage.upgrade()
    create_key_if_missing(storage)
    yield storage
    storage.close()


@pytest.fixture(scope="session", autouse=True)
def _server_database_rebuilt_first(request: pytest.FixtureRequest) -> None:
    """On PostgreSQL or MySQL/MariaDB the schema is rebuilt (``storage``) before the first
    test, whatever an earlier run left there: the tests that start servers on that database
    (the examples, the live tests) may come before any test that asks for ``storage``."""
    if os.environ.get("OIDC_TEST_DATABASE_URL"):
        request.getfixturevalue("storage")


@pytest.fixture(scope="session")
def settings(mount_name: str, database_url: str) -> Settings:
    return settings_for(mount_name, database_url, **FAST_PASSWORDS, **LOOPBACK_RPS)


_MOUNTS: dict[Provider, Mount] = {}


@pytest.fixture(scope="session")
def mount(mount_name: str, settings: Settings, storage: Storage) -> Mount:
    built = build(mount_name, settings, storage)
    assert built.provider.settings == settings
    _MOUNTS[built.provider] = built
    return built


@pytest.fixture(autouse=True)
def _the_mount_is_the_one_named(request: pytest.FixtureRequest) -> None:
    """A test named ``[middleware]`` runs on the middleware mount, never on a cached other."""
    if "mount" in request.fixturenames:
        assert request.getfixturevalue("mount").name == request.getfixturevalue("mount_name")


@pytest.fixture(scope="session")
def provider(mount: Mount) -> Provider:
    return mount.provider


@pytest.fixture(scope="session")
def issuer(mount: Mount) -> str:
    return mount.issuer


def _table_names() -> list[str]:
    return [
        m._meta.table_name for m in reversed(ALL_MODELS) if m._meta.table_name not in KEEP_TABLES
    ]


@pytest.fixture(autouse=True)
def _no_sender_outlives_its_test() -> Iterator[None]:
    """Back-channel sender threads end with the test that started them: one left running
    would poll whatever database a later test binds the models to."""
    yield
    backchannel.stop_all()


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    # The closure of the test's fixtures: ``provider`` here depends on ``storage``; a module's
    # own fixture named ``provider`` (a live server) does not, and its database is left alone.
    # The item's static closure, not ``request.fixturenames``: that one also lists ``storage``
    # in the session's first test, where ``_server_database_rebuilt_first`` asked for it, and
    # the rows a module's live server was just given would be deleted.
    if "storage" not in request.node.fixturenames:
        yield
        return
    storage: Storage = request.getfixturevalue("storage")
    db = storage.database
    with db.atomic():
        for table in _table_names():
            db.execute_sql(f"DELETE FROM {table}")
    yield
    storage.release()
    check_invariants(storage)


def check_invariants(storage: Storage) -> None:
    """SECURITY-CHECKLIST "nothing lost" invariants that hold after every test."""
    db = storage.database
    orphan_tokens = db.execute_sql(
        "SELECT COUNT(*) FROM oidc_access_token t JOIN oidc_authorization_code c "
        "ON t.code_id = c.id WHERE c.used_at IS NULL"
    ).fetchone()[0]
    assert orphan_tokens == 0, "a token references a code that is not marked used"
    families = db.execute_sql(
        "SELECT code_id, COUNT(*) FROM oidc_access_token WHERE code_id IS NOT NULL "
        "GROUP BY code_id HAVING COUNT(*) > 1"
    ).fetchall()
    assert list(families) == [], f"more than one token family for a code: {families}"
    late = db.execute_sql(
        "SELECT COUNT(*) FROM oidc_authorization_code WHERE used_at > expires_at"
    ).fetchone()[0]
    assert late == 0, "a code was used after it expired"
    plain = db.execute_sql(
        "SELECT COUNT(*) FROM oidc_client WHERE NOT (length(secret_digest) = 64 "
        "OR (is_public AND secret_digest = '' AND previous_secret_digest IS NULL)) "
        "OR length(previous_secret_digest) != 64"
    ).fetchone()[0]
    assert plain == 0, "a client secret is not stored as a SHA-256 digest (public: none)"


@pytest.fixture
def app(mount: Mount) -> MountedApp:
    return mount.browser()


def new_app(provider: Provider) -> MountedApp:
    """Another browser (its own cookie jar) on the mount that serves ``provider``."""
    return _MOUNTS[provider].browser()


def make_client(storage: Storage, name: str, redirect_uris: list[str], **kwargs: object) -> RP:
    fields = ClientFields(name=name, redirect_uris=tuple(redirect_uris), **kwargs)  # type: ignore[arg-type]
    client, secret = storage.clients.create(fields)
    return RP(client.client_id, secret or "", list(redirect_uris))


def make_user(provider: Provider, email: str, password: str, **kwargs: object) -> Account:
    user = provider.storage.users.create(email, provider.passwords.hash(password), **kwargs)  # type: ignore[arg-type]
    return Account(email, password, user.subject)


@pytest.fixture
def client_a(storage: Storage) -> RP:
    return make_client(
        storage,
        "Client A",
        ["https://rp.example/cb", "https://rp.example/cb2?x=1"],
        client_uri="https://rp.example",
        logo_uri="https://rp.example/logo.png",
        description="The first relying party",
    )


@pytest.fixture
def client_b(storage: Storage) -> RP:
    return make_client(storage, "Client B", ["https://rp-b.example/cb"])


@pytest.fixture
def alice(provider: Provider) -> Account:
    return make_user(
        provider,
        "alice@example.com",
        "correct horse battery staple",
        name="Alice Liddell",
        given_name="Alice",
        family_name="Liddell",
        preferred_username="alice",
        locale="en-GB",
        email_verified=True,
    )


@pytest.fixture
def bob(provider: Provider) -> Account:
    return make_user(provider, "bob@example.com", "bob's long password")


@pytest.fixture
def flow(app: MountedApp, client_a: RP, alice: Account) -> Flow:
    return Flow(app, client_a, alice)
