"""Migration 0004: documents are built for the nodes already there, and it downgrades cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from shared.db import migrate
from shared.db.engine import make_engine
from shared.statuses import INSTALLABLE, VersionStatus
from tests.search.support import Catalog, ids
from tests.support import RegistryClient

ACTIVE, VERSION_STATUSES = VersionStatus.ACTIVE, [str(s) for s in VersionStatus]


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {t for t in inspect(engine).get_table_names() if t.startswith("search_")}
    finally:
        engine.dispose()


def test_upgrade_indexes_existing_nodes_and_downgrade_removes_everything(
    api: RegistryClient, catalog: Catalog, database_url: str
) -> None:
    catalog.add("before-search", name="Before Search", tags=["legacy"])
    expected = {"search_docs", "search_sync", "search_cursors"}
    assert expected <= _tables(database_url)
    api.container.engine.dispose()
    command.downgrade(migrate.config(database_url), "0003")
    assert _tables(database_url) == set()
    migrate.upgrade(database_url)
    assert expected <= _tables(database_url)
    assert ids(api, "legacy") == ["before-search"]
    assert ids(api, "befor serch") == ["before-search"]


SQLITE_TRIGGERS = {
    "search_docs_ai",
    "search_docs_ad",
    "search_docs_au",
    "search_nodes_ai",
    "search_nodes_au",
    "search_nodes_stats",
    "search_nodes_ad",
    "search_publishers_au",
    "search_versions_ai",
    "search_versions_au",
    "search_versions_ad",
}
PG_TRIGGERS = {
    "search_nodes_inserted",
    "search_nodes_deleted",
    "search_nodes_changed",
    "search_nodes_stats",
    "search_publishers_changed",
    "search_versions_inserted",
    "search_versions_deleted",
    "search_versions_changed",
}


def test_every_search_trigger_is_in_place_at_head(api: RegistryClient) -> None:
    """SQLite drops a table's triggers when a batch migration rebuilds it: this fails until they are recreated."""
    with api.container.sessions() as s:
        if s.get_bind().dialect.name == "postgresql":
            found = set(s.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
            assert found >= PG_TRIGGERS
        else:
            found = set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            assert found >= SQLITE_TRIGGERS


def test_the_documents_follow_the_registrys_visibility_rules(api: RegistryClient, catalog: Catalog) -> None:
    """`search_docs.shown` (SQL in migration 0004) must say what shared.statuses.INSTALLABLE and the node and
    publisher statuses say; a change to those rules needs a migration of the triggers."""
    cases: dict[str, tuple[str, bool, str]] = {}
    for status in VERSION_STATUSES:
        for deprecated in (False, True):
            cases[f"v-{status}-{int(deprecated)}"] = (status, deprecated, "active")
    for node_status in ("banned", "deleted"):
        cases[f"n-{node_status}"] = (ACTIVE, False, node_status)
    for node_id, (status, deprecated, node_status) in cases.items():
        catalog.add(node_id, name=node_id)
        catalog.set_version(node_id, "1.0.0", status=status, deprecated=deprecated)
        catalog.set_node(node_id, status=node_status)
    banned = Catalog(api, "mallory", "mallory-pub")
    banned.add("of-banned-publisher", name="x")
    catalog.set_publisher("mallory-pub", status="banned")
    with api.container.uow() as uow:
        nodes = uow.nodes.get_many([*cases, "of-banned-publisher"])
        latest = uow.versions.latest_for_nodes(list(nodes))
        expected = {
            i
            for i, n in nodes.items()
            if i in latest and n.status not in ("banned", "deleted") and n.publisher.status != "banned"
        }
        assert uow.search.visible_ids(list(nodes)) == expected
    assert expected == {f"v-{s}-0" for s in INSTALLABLE}
