"""Fixtures: every database test runs on SQLite and on PostgreSQL, through the function's real entry point."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# Set before firebase-admin or Settings are imported anywhere: tests use emulator tokens.
os.environ["APP_ENV"] = "test"
os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = "127.0.0.1:9099"
for _var in ("DATABASE_URL", "BLOB_BACKEND", "EVENTS_BACKEND", "PUBLIC_BASE_URL", "PUBSUB_EMULATOR_HOST"):
    os.environ.pop(_var, None)

from local.events import deliver_finalized, deliver_to_releases  # noqa: E402
from shared.adapters.inprocess_publisher import InProcessPublisher  # noqa: E402
from shared.bootstrap import Container, bootstrap, set_container  # noqa: E402
from shared.db import migrate  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.pg import Cluster  # noqa: E402
from tests.roles import Roles, background  # noqa: E402
from tests.support import Gateway, RegistryClient, gateway  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """The admin URL of a PostgreSQL server for this session, or None (with the skip reason printed)."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    cluster = Cluster()
    reason = cluster.unavailable_reason()
    if reason:
        print(f"\n[tests] PostgreSQL tests skipped: {reason}")
        yield None
        return
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def database_roles(postgres_server: str | None) -> Iterator[Roles | None]:
    """One login role per database profile (shared/db/grants.py) on the session's server, or None without one."""
    if postgres_server is None:
        yield None
        return
    with Roles(postgres_server) as roles:
        yield roles


@pytest.fixture(scope="session")
def pg_template(postgres_server: str | None, database_roles: Roles | None) -> Iterator[str | None]:
    """A migrated template database, its tables granted to the functions' roles as a deploy does; each test gets a
    copy of it (fast CREATE DATABASE ... TEMPLATE, which copies the grants too). Dropped at the end, before the
    roles it grants to."""
    if postgres_server is None or database_roles is None:
        yield None
        return
    name = f"registry_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    migrate.upgrade(_with_db(postgres_server, name))
    database_roles.grant(_with_db(postgres_server, name))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _with_db(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "registry.sqlite3"
        shutil.copy(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("pg_template")
    if server is None or template is None:
        pytest.skip("PostgreSQL is not available here (see the reason printed at the start)")
    name = f"registry_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _with_db(server, name)
    try:
        yield url
    finally:
        from shared.db.engine import engine_for

        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "DATA_DIR": data_dir,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8080",
        "LOCAL_SIGNING_KEY": "test-signing-key",
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
        # Generous publish limits; the rate-limit tests set their own.
        "RATE_NEW_NODE_BURST": 1000,
        "RATE_NEW_VERSION_BURST": 1000,
        # Fixtures write rows straight to the database, behind the epoch the read cache watches: the cache and the
        # download tally have tests of their own (tests/registry/test_read_cache.py).
        "READ_CACHE_SECONDS": 0,
        "DOWNLOAD_FLUSH_SECONDS": 0,
        # GitHub's release webhook (POST /releases) is signed with this.
        "GITHUB_WEBHOOK_SECRET": "test-webhook-secret",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def events() -> InProcessPublisher:
    return InProcessPublisher()


@pytest.fixture
def container(database_url: str, tmp_path: Path, events: InProcessPublisher) -> Iterator[Container]:
    c = bootstrap(make_settings(database_url, tmp_path / "data"), publisher=events)
    # Uploads are scanned, unbans and activations released, as in the cloud (each as its own function's role where
    # a test binds roles: tests/roles.py).
    c.blobs.on_finalized(background("scanner", deliver_finalized))  # type: ignore[attr-defined]
    events.subscribe(c.settings.events_topic, background("scanner-release", deliver_to_releases))
    set_container(c)
    try:
        yield c
    finally:
        set_container(None)


@pytest.fixture(scope="session")
def registry_app() -> Gateway:
    """Every registry function behind one WSGI app that routes as the load balancer does."""
    return gateway()


@pytest.fixture
def api(container: Container, registry_app: Gateway) -> RegistryClient:
    return RegistryClient(registry_app.test_client(), container)
