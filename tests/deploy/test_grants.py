"""Each function's database role has only its profile's rights (shared/db/grants.py, assigned in
terraform/functions.tf), on PostgreSQL. The reads answer and count installs as `reads`, which cannot change a node;
a publish, its scan, a ban and unban with their releases, the indexer, the outbox sweep and the scheduled sweeps all
work with each function under its own role; and each role is refused what its function never does. `billing` appends
to the ledger and can neither change nor delete an entry or a posting; no registry role reaches the money side.
(Every mutating route runs under its area's role in tests/registry/test_authorization_matrix.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import ProgrammingError

from bench.seed import seed
from functions.indexer import reindex as full_reindex
from functions.indexer import usecases as indexer
from functions.indexer.main import handle_message
from functions.scanner import apply
from local.events import deliver_finalized, deliver_to_releases
from shared import outbox
from shared.adapters.inprocess_publisher import InProcessPublisher, Message
from shared.bootstrap import Container, bootstrap, get_container
from shared.db import grants
from shared.db.models import OutboxEvent
from tests.conftest import _with_db, make_settings
from tests.roles import Binding, Roles, background, bound, serving
from tests.support import Gateway, RegistryClient, client_of
from tools import migrate


@pytest.fixture(scope="module")
def granted(postgres_server: str | None, database_roles: Roles | None) -> Iterator[tuple[str, Roles]]:
    """A migrated, seeded database whose roles hold their profiles' rights (as tools/migrate.py grants them): its
    owner's URL and the roles."""
    if postgres_server is None or database_roles is None:
        pytest.skip("PostgreSQL is not available here (see the reason printed at the start)")
    name = f"grants_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner = _with_db(postgres_server, name)
    try:
        migrate.run(owner, {role: profile for profile, role in database_roles.names.items()})
        seed(owner, nodes=6, versions_per_node=2)
        yield owner, database_roles
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def refused(url: str, sql: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    except ProgrammingError as exc:
        return getattr(exc.orig, "sqlstate", None) == "42501"  # insufficient_privilege (not owner, no grant)
    finally:
        engine.dispose()
    return False


def test_the_reads_answer_as_the_reads_role(granted: tuple[str, Roles], registry_app: Gateway, tmp_path: Path) -> None:
    owner, roles = granted
    settings = make_settings(
        roles.url(owner, "reads"), tmp_path / "data", DOWNLOAD_FLUSH_SECONDS=0, READ_CACHE_SECONDS=30
    )
    with client_of(bootstrap(settings), registry_app) as api:
        c = api.container
        with c.engine.connect() as conn:  # as `reads` (other tests of this module publish into the same database)
            nodes = conn.execute(text("SELECT count(*) FROM nodes WHERE status = 'active'")).scalar_one()
        page = api.get("/nodes", query={"limit": 3})
        assert page.status_code == 200 and page.get_json()["total"] == nodes >= 6, page.get_data(as_text=True)
        node: dict[str, Any] = page.get_json()["nodes"][0]
        for path in (f"/nodes/{node['id']}", f"/nodes/{node['id']}/versions", "/versions", "/nodes/search"):
            assert api.get(path).status_code == 200, path
        bulk = {"node_versions": [{"node_id": node["id"], "version": "1.0.0"}]}
        assert api.post("/bulk/nodes/versions", json_body=bulk).status_code == 200
        installs = node["downloads"]
        assert api.get(f"/nodes/{node['id']}/install").status_code == 200  # writes the download count
        with c.engine.connect() as conn:
            count = conn.execute(text("SELECT total_install FROM nodes WHERE id = :i"), {"i": node["id"]}).scalar()
        assert count == installs + 1


@pytest.fixture
def stack(granted: tuple[str, Roles], registry_app: Gateway, tmp_path: Path) -> Iterator[RegistryClient]:
    """The registry as deployed: each request, upload and event reaches its function under the function's role."""
    owner, roles = granted
    events = InProcessPublisher()
    c = bootstrap(make_settings(owner, tmp_path / "data"), publisher=events)
    c.blobs.on_finalized(background("scanner", deliver_finalized))  # type: ignore[attr-defined]
    events.subscribe(c.settings.events_topic, background("scanner-release", deliver_to_releases))
    events.subscribe(c.settings.events_topic, background("indexer", _index))
    with client_of(c, registry_app) as client, bound(Binding(roles, owner)):
        yield client


def _index(message: Message) -> None:
    result = handle_message(message.data, message.attributes)
    assert result in ("applied", "ignored", "duplicate"), result


def _unsent(c: Container) -> int:
    with c.sessions() as s:
        return len(s.scalars(select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None))).all())


def test_the_background_functions_work_as_their_roles(stack: RegistryClient) -> None:
    api, c = stack, stack.container
    token = api.owner_with_token("grant-owner", "grant-pub")
    api.publish("grant-pub", "granted-pack", "1.0.0", token)  # scanned as `scanner`
    version = api.get("/nodes/granted-pack/versions/1.0.0").get_json()
    assert version["status"] == "NodeVersionStatusActive", version
    assert api.post("/publishers/grant-pub/nodes/granted-pack/ban", as_="root", admin=True).status_code == 204
    assert api.post("/publishers/grant-pub/nodes/granted-pack/unban", as_="root", admin=True).status_code == 204
    install = api.get("/nodes/granted-pack/install")  # released again by `scanner` on the unban's event
    assert install.status_code == 200 and api.download(install.get_json()["downloadUrl"]).status_code == 200
    # Every event reached the releases and the indexer: a failed delivery would have left it unsent.
    assert _unsent(c) == 0

    with serving("registry-outbox-sweep"):
        assert outbox.sweep(get_container().sessions, c.publisher) == 0
    with serving("scanner-sweep"):
        counts = apply.sweep(get_container().uow, c.blobs, apply.limits_from(c.settings), older_than_minutes=0)
        assert counts.get("release_missing", 0) == 0, counts
    with serving("indexer-reindex"):
        r = get_container()
        assert full_reindex.reindex(r.uow, r.search, batch=50, resume=False, budget_seconds=60).complete
        indexer.sync_downloads(r.uow, r.search, 100)


EVERY_PROFILE = sorted(grants.PROFILES)
# Every way to rewrite the ledger's history: each changes rows as the owner (test_the_ledger_is_append_only_...).
LEDGER_REWRITES = [
    "UPDATE ledger_entries SET amount = amount + 1",
    "UPDATE ledger_entries SET idempotency_key = idempotency_key || 'x'",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_postings SET amount = amount + 1",
    "UPDATE ledger_postings SET account_id = 'system:revenue'",
    "DELETE FROM ledger_postings",
]
OUTBOX_ROW = "VALUES ('x', 't', 'x', '{}', now(), 0)"
MONEY = ("billing", "proxy")
REFUSED = [
    *[(p, "TRUNCATE nodes CASCADE") for p in EVERY_PROFILE],
    *[(p, "DROP TABLE node_versions CASCADE") for p in EVERY_PROFILE],
    *[(p, "SELECT token_digest FROM personal_access_tokens") for p in EVERY_PROFILE if p != "publishing"],
    ("reads", "UPDATE nodes SET name = 'taken over'"),
    ("reads", "UPDATE node_versions SET status = 'active'"),
    ("reads", "INSERT INTO outbox_events (id, topic, type, payload, created_at, attempts) " + OUTBOX_ROW),
    ("reads", "SELECT email FROM users"),
    ("reads", "SELECT * FROM audit_log"),
    ("community", "UPDATE node_versions SET status = 'active'"),
    ("community", "UPDATE publishers SET status = 'banned'"),
    ("ci", "UPDATE nodes SET name = 'x'"),
    ("ci", "DELETE FROM node_versions"),
    ("comfy_nodes", "UPDATE publishers SET name = 'x'"),
    ("comfy_nodes", "DELETE FROM nodes"),
    ("moderation", "DELETE FROM nodes"),
    ("moderation", "DELETE FROM publishers"),
    ("scanner", "SELECT email FROM users"),
    ("scanner", "UPDATE publishers SET status = 'banned'"),
    ("indexer", "UPDATE nodes SET name = 'x'"),
    ("indexer", "SELECT email FROM users"),
    ("outbox", "SELECT count(*) FROM nodes"),
    ("outbox", "DELETE FROM outbox_events"),
    # The ledger is append-only for billing: a posted entry is never changed or taken back, only reversed by another.
    *[("billing", sql) for sql in LEDGER_REWRITES],
    ("billing", "TRUNCATE ledger_postings"),
    ("billing", "DELETE FROM customers"),
    ("billing", "DELETE FROM credit_holds"),
    ("billing", "DELETE FROM customer_api_keys"),  # a deleted key is marked (deleted_at), never removed
    ("billing", "UPDATE customer_events SET type = 'x'"),
    ("billing", "UPDATE users SET is_admin = true"),
    ("billing", "UPDATE nodes SET name = 'x'"),
    ("billing", "SELECT count(*) FROM node_versions"),
    # The gateway appends to the ledger as billing does, and changes nothing of customers but a key's last use.
    *[("proxy", sql) for sql in LEDGER_REWRITES],
    ("proxy", "UPDATE customers SET is_admin = true"),
    ("proxy", "DELETE FROM customer_api_keys"),
    ("proxy", "DELETE FROM credit_holds"),
    ("proxy", "SELECT count(*) FROM customer_events"),
    ("proxy", "SELECT count(*) FROM nodes"),
    ("billing", "UPDATE proxy_jobs SET status = 'failed'"),
    # No registry function touches the money side.
    *[(p, "SELECT count(*) FROM ledger_entries") for p in EVERY_PROFILE if p not in MONEY],
    *[(p, "SELECT count(*) FROM customer_api_keys") for p in EVERY_PROFILE if p not in MONEY],
]


@pytest.mark.parametrize(("profile", "sql"), REFUSED, ids=[f"{p}: {s[:40]}" for p, s in REFUSED])
def test_each_role_is_refused_what_its_function_never_does(granted: tuple[str, Roles], profile: str, sql: str) -> None:
    owner, roles = granted
    assert refused(roles.url(owner, profile), sql)


def test_every_table_is_some_function_s(granted: tuple[str, Roles]) -> None:
    """A table a migration adds and no profile names would be out of every function's reach."""
    owner, _ = granted
    engine = create_engine(owner)
    try:
        with engine.connect() as conn:
            tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    finally:
        engine.dispose()
    named = {table for profile in grants.PROFILES.values() for table in profile}
    assert tables - {"alembic_version"} <= named, tables - named - {"alembic_version"}


def test_the_refusals_are_of_rights_not_of_syntax(granted: tuple[str, Roles]) -> None:
    """The statements above succeed for a role that holds the right: what refuses them is the grant."""
    owner, roles = granted
    assert not refused(roles.url(owner, "publishing"), "SELECT token_digest FROM personal_access_tokens")
    assert not refused(roles.url(owner, "moderation"), "UPDATE publishers SET status = status")
    assert not refused(roles.url(owner, "scanner"), "UPDATE node_versions SET status = status")
    assert not refused(roles.url(owner, "outbox"), "SELECT count(*) FROM outbox_events")
    assert not refused(roles.url(owner, "billing"), "UPDATE ledger_accounts SET balance = balance")
    assert not refused(roles.url(owner, "billing"), "UPDATE customer_api_keys SET deleted_at = deleted_at")


ENTRY = (
    "INSERT INTO ledger_entries (id, idempotency_key, kind, customer_id, amount, reference, details, created_at)\n"
    "VALUES (:id, :key, 'promotion', NULL, :amount, NULL, '{}', now())"
)
POSTING = "INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES (:e, :a, :m)"


def _entry(conn: Any, key: str, amount: int) -> int:
    """One balanced entry (a promotion: promotions pays, revenue receives) with its two postings; rows inserted."""
    entry = str(uuid.uuid4())
    inserted = conn.execute(text(ENTRY), {"id": entry, "key": key, "amount": amount}).rowcount
    for account, signed in (("system:promotions", -amount), ("system:revenue", amount)):
        inserted += conn.execute(text(POSTING), {"e": entry, "a": account, "m": signed}).rowcount
    return int(inserted)


def test_billing_appends_to_the_ledger(granted: tuple[str, Roles]) -> None:
    """billing inserts entries and postings (the postings' id sequence included) and reads them back."""
    owner, roles = granted
    engine = create_engine(roles.url(owner, "billing"))
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            assert _entry(conn, f"grants-{uuid.uuid4()}", 1_000_000) == 3
            total = conn.execute(text("SELECT count(*), sum(amount) FROM ledger_postings")).one()
            assert total[0] >= 2 and total[1] == 0, "each entry's postings sum to zero"
            transaction.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("sql", LEDGER_REWRITES)
def test_the_ledger_is_append_only_for_billing_but_the_statements_work(granted: tuple[str, Roles], sql: str) -> None:
    """Each rewrite of the ledger that billing is refused (REFUSED above) changes rows when its owner runs it: the
    refusal is of the right, on a ledger that has an entry to rewrite."""
    owner, roles = granted
    engine = create_engine(owner)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            _entry(conn, f"grants-{uuid.uuid4()}", 2_000_000)
            if sql.startswith("DELETE FROM ledger_entries"):
                conn.execute(text("DELETE FROM ledger_postings"))
            assert conn.execute(text(sql)).rowcount > 0, sql
            transaction.rollback()
    finally:
        engine.dispose()
    assert refused(roles.url(owner, "billing"), sql)
