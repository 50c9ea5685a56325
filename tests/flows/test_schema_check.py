"""A provider mounted anywhere checks the database's schema when it is built, as
``oidc-core serve`` does: an older or a newer schema is refused with the same message.  A
database unreachable then is checked at the first request that needs it: 503 and the
message in the log while the schema is not current, and ``/health/ready`` says why.

The suite's own database plays the old or new one: its ``oidc_schema_version`` says another
version for the test's duration.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import pytest

from oidc_core import SchemaNotCurrent, SchemaTooNew
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from oidc_core.storage.migrations import LATEST
from tests.conftest import FAST_PASSWORDS
from tests.support.fault_injection import is_unavailable_json
from tests.support.faults import Faults
from tests.support.mounts import Mount, build, settings_for


@pytest.fixture
def schema_version(storage: Storage) -> Iterator[Callable[[int], None]]:
    """Make the suite's database say it is at another schema version; the truth afterwards."""
    db = storage.database
    rows = list(db.execute_sql("SELECT id, version FROM oidc_schema_version"))

    def pretend(version: int) -> None:
        db.execute_sql(f"UPDATE oidc_schema_version SET version = {version}")

    yield pretend
    for row_id, version in rows:
        db.execute_sql(f"UPDATE oidc_schema_version SET version = {version} WHERE id = {row_id}")


@pytest.fixture
def build_own(
    mount_name: str, database_url: str, storage: Storage
) -> Iterator[Callable[..., Mount]]:
    """Builds the mount of a new provider on the suite's database, with its own storage;
    ``unreachable=True``: while every statement of that storage fails."""
    opened: list[Storage] = []

    def build_one(unreachable: bool = False) -> Mount:
        own = Storage(database_url)
        opened.append(own)
        settings = settings_for(mount_name, database_url, **FAST_PASSWORDS)
        with Faults(own.database).down() if unreachable else contextlib.nullcontext():
            return build(mount_name, settings, own)

    yield build_one
    for own in opened:
        own.close()
    database_proxy.initialize(storage.database)  # give the suite its database back


def refusal(build_one: Callable[..., Mount]) -> BaseException:
    """The exception building the provider raised (Pyramid wraps it: ``evalue``)."""
    with pytest.raises(Exception) as raised:
        build_one()
    return getattr(raised.value, "evalue", raised.value)


def test_a_provider_is_not_built_on_an_older_schema(
    storage: Storage, schema_version: Callable[[int], None], build_own: Callable[..., Mount]
) -> None:
    schema_version(LATEST - 1)
    message = storage.schema_problem()  # what `oidc-core serve` says
    assert message == (
        f"the database schema is version {LATEST - 1}, older than this oidc-core's "
        f"({LATEST}): run `oidc-core migrate`"
    )
    error = refusal(build_own)
    assert type(error) is SchemaNotCurrent and str(error) == message


def test_a_provider_is_not_built_on_a_newer_schema(
    storage: Storage, schema_version: Callable[[int], None], build_own: Callable[..., Mount]
) -> None:
    schema_version(LATEST + 1)
    error = refusal(build_own)
    assert isinstance(error, SchemaTooNew) and str(error) == storage.schema_problem()
    assert f"version {LATEST + 1}, newer than this oidc-core knows" in str(error)


def test_building_on_the_current_schema_leaves_no_connection_open(
    build_own: Callable[..., Mount],
) -> None:
    """A host that forks workers after building the provider hands them no connection."""
    provider = build_own().provider
    assert provider.storage.database.is_closed()
    assert provider.storage.schema_problem() is None


def test_a_database_unreachable_when_built_is_checked_at_the_first_request(
    storage: Storage,
    schema_version: Callable[[int], None],
    build_own: Callable[..., Mount],
    caplog: pytest.LogCaptureFixture,
) -> None:
    schema_version(LATEST - 1)
    message = storage.schema_problem()
    assert message is not None
    with caplog.at_level(logging.WARNING):
        mount = build_own(unreachable=True)  # no error: the database may come back
    assert "database unreachable, its schema is checked at the first request" in caplog.text
    app = mount.browser()
    assert app.get("/.well-known/openid-configuration").status_int == 200

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="oidc_core.provider"):
        api = app.get("/userinfo", headers={"Authorization": "Bearer x"}, expect_errors=True)
        page = app.get("/authorize?client_id=x", expect_errors=True)
    assert is_unavailable_json(api), (api.status, api.text[:300])
    assert page.status_int == 503 and page.headers["Retry-After"] == "5"
    assert page.content_type == "text/html" and "Traceback" not in page.text
    assert caplog.text.count(message) == 2  # each request's log line
    ready = app.get("/health/ready", expect_errors=True)
    assert ready.status_int == 503
    assert ready.json == {"status": "unavailable", "reason": message}

    schema_version(LATEST)  # `oidc-core migrate` has run
    assert app.get("/health/ready").json == {"status": "ok"}
    after = app.get("/userinfo", headers={"Authorization": "Bearer x"}, expect_errors=True)
    assert after.status_int == 401 and after.json["error"] == "invalid_token"
