"""search: full-text and typo-tolerant node search, indexer state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00

Every object here is named `search_*`. The models do not describe them (FTS5 tables and their shadow tables, a
tsvector, trigram indexes, triggers), so autogenerate must leave that prefix alone.

- One search document per node, kept in step by triggers in the same transaction as the change: its search text
  (from the node and its publisher) and what search filters and ranks on (shown, downloads, rating, declared OS and
  accelerators), so that a search never scans `nodes`. `shown` is the visibility rule: the node is neither banned
  nor deleted, its publisher is not banned, and it has an installable (`active`), not deprecated version.
  PostgreSQL: `search_docs` holds a weighted tsvector (id and name A, tags and publisher B, description D) under a
  GIN index and the words under a pg_trgm GIN index for typos; no index covers the ranking columns and pages keep
  free space, so an install's update of `downloads` is a HOT update that writes no index. SQLite: `search_docs`
  holds the text behind two external-content FTS5 tables, `search_fts` (unicode61 words, prefix indexes) and
  `search_fuzzy` (trigrams), and a ranking index; an install touches that index only.
- `search_sync`: what the indexer last sent for each node (downloads, when), so that download counts are sent in
  batches rather than one write per install.
- `search_cursors`: where an interrupted full reindex resumes.

SQLite drops a table's triggers with the table: a later migration that rebuilds `nodes`, `node_versions` or
`publishers` (a batch operation other than adding a column) must create the `search_*` triggers again. The search
tests check that every trigger is there at head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The version statuses shared.statuses.INSTALLABLE names when this was written; a change there needs a migration.
INSTALLABLE = "('active')"
HIDDEN_NODE = "('banned', 'deleted')"
# Punctuation that separates words in ids and names; SQLite has no regexp_replace to do this in one call.
_PUNCTUATION = ("-", "_", ".", "/", ":", ",", ";", "(", ")", "[", "]", "'", '"', "&", "+", "!", "?", "#", "@")


# -- SQLite -------------------------------------------------------------------------------------------------------
def _sqlite_strip(expr: str, into: str) -> str:
    for ch in _PUNCTUATION:
        expr = f"replace({expr}, '{ch.replace(chr(39), chr(39) * 2)}', '{into}')"
    return expr


def _sqlite_compact(expr: str) -> str:
    """`Video-Helper Suite` -> `videohelpersuite`: what an exact match compares."""
    return f"replace({_sqlite_strip(f'lower({expr})', '')}, ' ', '')"


_SQLITE_TAGS = (
    "coalesce(CASE WHEN json_valid(n.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(n.tags)) END, '')"
)
_SQLITE_SHOWN = (
    f"(n.status NOT IN {HIDDEN_NODE} AND p.status <> 'banned' AND EXISTS (SELECT 1 FROM node_versions v"
    f" WHERE v.node_id = n.id AND v.status IN {INSTALLABLE} AND v.deprecated = 0))"
)
_STATS = "n.total_install, coalesce(n.total_star * 1.0 / nullif(n.total_review, 0), 0)"
_SQLITE_FUZZY = _sqlite_strip(
    f"lower(n.id || ' ' || n.name || ' ' || {_SQLITE_TAGS} || ' ' || p.id || ' ' || p.name)", " "
)
_SQLITE_COLUMNS = (
    "node_id, title, tags, publisher, description, fuzzy, exact_id, exact_name,"
    " shown, downloads, rating, supported_os, supported_accelerators"
)


def _sqlite_upsert(where: str) -> str:
    updates = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _SQLITE_COLUMNS.split(",")[1:])
    return f"""
    INSERT INTO search_docs ({_SQLITE_COLUMNS})
    SELECT n.id,
           n.id || ' ' || n.name || ' ' || {_sqlite_compact("n.id")} || ' ' || {_sqlite_compact("n.name")},
           {_SQLITE_TAGS}, p.id || ' ' || p.name, n.description,
           ' ' || {_SQLITE_FUZZY} || ' ',
           {_sqlite_compact("n.id")}, {_sqlite_compact("n.name")},
           {_SQLITE_SHOWN}, {_STATS}, n.supported_os, n.supported_accelerators
    FROM nodes n JOIN publishers p ON p.id = n.publisher_id
    WHERE {where}
    ON CONFLICT (node_id) DO UPDATE SET {updates};
    """


def _sqlite_stats(node_id: str) -> str:
    """Refresh what a search filters and ranks on, leaving the text (and so the FTS tables) alone."""
    return f"""
    UPDATE search_docs SET (shown, downloads, rating, supported_os, supported_accelerators) = (
        SELECT {_SQLITE_SHOWN}, {_STATS}, n.supported_os, n.supported_accelerators
        FROM nodes n JOIN publishers p ON p.id = n.publisher_id WHERE n.id = search_docs.node_id)
    WHERE node_id = {node_id};
    """


_FTS_COLUMNS = "title, tags, publisher, description"
_SQLITE_TRIGGERS = {
    "search_docs_ai": "AFTER INSERT ON search_docs BEGIN {insert_new} END",
    "search_docs_ad": "AFTER DELETE ON search_docs BEGIN {delete_old} END",
    "search_docs_au": "AFTER UPDATE OF title, tags, publisher, description, fuzzy ON search_docs"
    " BEGIN {delete_old} {insert_new} END",
    "search_nodes_ai": "AFTER INSERT ON nodes BEGIN {upsert_new} END",
    "search_nodes_au": "AFTER UPDATE OF id, name, description, tags, publisher_id ON nodes BEGIN"
    " DELETE FROM search_docs WHERE node_id = old.id AND old.id <> new.id; {upsert_new} END",
    "search_nodes_stats": "AFTER UPDATE OF total_install, total_star, total_review, status, supported_os,"
    " supported_accelerators ON nodes BEGIN {stats_new_id} END",
    "search_nodes_ad": "AFTER DELETE ON nodes BEGIN DELETE FROM search_docs WHERE node_id = old.id; END",
    "search_publishers_au": "AFTER UPDATE OF id, name, status ON publishers BEGIN {upsert_publisher} END",
    "search_versions_ai": "AFTER INSERT ON node_versions BEGIN {stats_new_node} END",
    "search_versions_au": "AFTER UPDATE OF node_id, status, deprecated ON node_versions BEGIN"
    " {stats_old_node} {stats_new_node} END",
    "search_versions_ad": "AFTER DELETE ON node_versions BEGIN {stats_old_node} END",
}


def _sqlite_upgrade() -> None:
    op.execute(
        """
        CREATE TABLE search_docs (
            rid INTEGER PRIMARY KEY,
            node_id VARCHAR(100) NOT NULL UNIQUE,
            title TEXT NOT NULL, tags TEXT NOT NULL, publisher TEXT NOT NULL, description TEXT NOT NULL,
            fuzzy TEXT NOT NULL, exact_id TEXT NOT NULL, exact_name TEXT NOT NULL,
            shown BOOLEAN NOT NULL, downloads BIGINT NOT NULL, rating FLOAT NOT NULL,
            supported_os TEXT NOT NULL, supported_accelerators TEXT NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX search_docs_ranking ON search_docs (shown, downloads DESC, rating DESC, node_id)")
    op.execute("CREATE INDEX search_docs_exact_id ON search_docs (exact_id)")
    op.execute("CREATE INDEX search_docs_exact_name ON search_docs (exact_name)")
    op.execute(
        f"CREATE VIRTUAL TABLE search_fts USING fts5({_FTS_COLUMNS}, content='search_docs', content_rowid='rid',"
        " tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )
    op.execute(
        "CREATE VIRTUAL TABLE search_fuzzy USING fts5(fuzzy, content='search_docs', content_rowid='rid',"
        " tokenize='trigram')"
    )
    new_values = "new.rid, new.title, new.tags, new.publisher, new.description"
    old_values = "'delete', old.rid, old.title, old.tags, old.publisher, old.description"
    parts = {
        "insert_new": f"INSERT INTO search_fts (rowid, {_FTS_COLUMNS}) VALUES ({new_values});"
        " INSERT INTO search_fuzzy (rowid, fuzzy) VALUES (new.rid, new.fuzzy);",
        "delete_old": f"INSERT INTO search_fts (search_fts, rowid, {_FTS_COLUMNS}) VALUES ({old_values});"
        " INSERT INTO search_fuzzy (search_fuzzy, rowid, fuzzy) VALUES ('delete', old.rid, old.fuzzy);",
        "upsert_new": _sqlite_upsert("n.id = new.id"),
        "upsert_publisher": _sqlite_upsert("n.publisher_id = new.id"),
        "stats_new_id": _sqlite_stats("new.id"),
        "stats_new_node": _sqlite_stats("new.node_id"),
        "stats_old_node": _sqlite_stats("old.node_id"),
    }
    for name, body in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} " + body.format(**parts))
    op.execute(_sqlite_upsert("1 = 1"))


# -- PostgreSQL ---------------------------------------------------------------------------------------------------
_PG_TAGS = (
    "CASE WHEN json_typeof(n.tags) = 'array'"
    " THEN coalesce((SELECT string_agg(t, ' ') FROM json_array_elements_text(n.tags) AS t), '') ELSE '' END"
)


def _pg_compact(expr: str) -> str:
    return f"regexp_replace(lower({expr}), '[^[:alnum:]]+', '', 'g')"


def _pg_spaced(expr: str) -> str:
    return f"regexp_replace(lower({expr}), '[^[:alnum:]]+', ' ', 'g')"


_PG_TITLE = " || ' ' || ".join((_pg_spaced("n.id || ' ' || n.name"), _pg_compact("n.id"), _pg_compact("n.name")))
_PG_META = _pg_spaced(f"{_PG_TAGS} || ' ' || p.id || ' ' || p.name")
_PG_FUZZY = _pg_spaced(f"n.id || ' ' || n.name || ' ' || {_PG_TAGS} || ' ' || p.id || ' ' || p.name")
_PG_SHOWN = (
    f"(n.status NOT IN {HIDDEN_NODE} AND p.status <> 'banned' AND EXISTS (SELECT 1 FROM node_versions v"
    f" WHERE v.node_id = n.id AND v.status IN {INSTALLABLE} AND NOT v.deprecated))"
)
_PG_STATS = f"{_PG_SHOWN}, {_STATS}, n.supported_os::text, n.supported_accelerators::text"
_PG_COLUMNS = (
    "node_id, document, fuzzy, exact_id, exact_name, shown, downloads, rating, supported_os, supported_accelerators"
)
_PG_SET = ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in _PG_COLUMNS.split(",")[1:])

_PG_FUNCTIONS = [
    f"""
CREATE FUNCTION search_docs_upsert(ids text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_docs ({_PG_COLUMNS})
    SELECT n.id,
           setweight(to_tsvector('simple', {_PG_TITLE}), 'A')
           || setweight(to_tsvector('simple', {_PG_META}), 'B')
           || setweight(to_tsvector('simple', {_pg_spaced('n.description')}), 'D'),
           ' ' || {_PG_FUZZY} || ' ',
           {_pg_compact('n.id')}, {_pg_compact('n.name')},
           {_PG_STATS}
    FROM nodes n JOIN publishers p ON p.id = n.publisher_id
    WHERE n.id = ANY(ids)
    ON CONFLICT (node_id) DO UPDATE SET {_PG_SET}
$$
""",
    f"""
CREATE FUNCTION search_docs_stats(ids text[]) RETURNS void LANGUAGE sql AS $$
    UPDATE search_docs d
    SET (shown, downloads, rating, supported_os, supported_accelerators) = (SELECT {_PG_STATS})
    FROM nodes n JOIN publishers p ON p.id = n.publisher_id
    WHERE n.id = d.node_id AND d.node_id = ANY(ids)
$$
""",
    # Statement triggers with transition tables: a bulk insert or delete is one set-based refresh.
    """
CREATE FUNCTION search_nodes_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_upsert(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_nodes_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_docs WHERE node_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_nodes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id <> NEW.id THEN
        DELETE FROM search_docs WHERE node_id = OLD.id;
    END IF;
    PERFORM search_docs_upsert(ARRAY[NEW.id]::text[]);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_nodes_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_stats(ARRAY[NEW.id]::text[]);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_publishers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_upsert(ARRAY(SELECT id FROM nodes WHERE publisher_id = NEW.id)::text[]);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_versions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_stats(ARRAY(SELECT DISTINCT node_id FROM new_rows)::text[]);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_versions_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_stats(ARRAY(SELECT DISTINCT node_id FROM old_rows)::text[]);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION search_versions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_stats(ARRAY[OLD.node_id, NEW.node_id]::text[]);
    RETURN NULL;
END
$$
""",
]
# name -> (table, when, function)
_PG_TRIGGERS = {
    "search_nodes_inserted": ("nodes", "AFTER INSERT", "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"),
    "search_nodes_deleted": ("nodes", "AFTER DELETE", "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"),
    "search_nodes_changed": ("nodes", "AFTER UPDATE OF id, name, description, tags, publisher_id", "FOR EACH ROW"),
    "search_nodes_stats": (
        "nodes",
        "AFTER UPDATE OF total_install, total_star, total_review, status, supported_os, supported_accelerators",
        "FOR EACH ROW",
    ),
    "search_publishers_changed": ("publishers", "AFTER UPDATE OF id, name, status", "FOR EACH ROW"),
    "search_versions_inserted": (
        "node_versions",
        "AFTER INSERT",
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
    "search_versions_deleted": (
        "node_versions",
        "AFTER DELETE",
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    ),
    "search_versions_changed": ("node_versions", "AFTER UPDATE OF node_id, status, deprecated", "FOR EACH ROW"),
}


def _pg_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE TABLE search_docs (node_id VARCHAR(100) PRIMARY KEY, document tsvector NOT NULL,"
        " fuzzy TEXT NOT NULL, exact_id TEXT NOT NULL, exact_name TEXT NOT NULL, shown BOOLEAN NOT NULL,"
        " downloads BIGINT NOT NULL, rating DOUBLE PRECISION NOT NULL, supported_os TEXT NOT NULL,"
        " supported_accelerators TEXT NOT NULL) WITH (fillfactor = 70)"
    )
    op.execute("CREATE INDEX search_docs_document_idx ON search_docs USING gin (document)")
    op.execute("CREATE INDEX search_docs_fuzzy_idx ON search_docs USING gin (fuzzy gin_trgm_ops)")
    op.execute("CREATE INDEX search_docs_exact_id ON search_docs (exact_id)")
    op.execute("CREATE INDEX search_docs_exact_name ON search_docs (exact_name)")
    # Counts what anyone may find without reading the table; `shown` changes rarely, so installs stay HOT updates.
    op.execute("CREATE INDEX search_docs_shown ON search_docs (node_id) WHERE shown")
    for function in _PG_FUNCTIONS:
        op.execute(function)
    for name, (table, when, each) in _PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} ON {table} {each} EXECUTE FUNCTION {name}()")
    op.execute("SELECT search_docs_upsert(ARRAY(SELECT id FROM nodes)::text[])")


def upgrade() -> None:
    op.create_table(
        "search_sync",
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("indexed_downloads", sa.BigInteger(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name="search_sync_pkey"),
    )
    op.create_table(
        "search_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="search_cursors_pkey"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _, _) in _PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute("DROP FUNCTION IF EXISTS search_docs_stats(text[])")
        op.execute("DROP FUNCTION IF EXISTS search_docs_upsert(text[])")
        op.execute("DROP TABLE IF EXISTS search_docs")
        # pg_trgm stays: it may have been there before us, and other objects may use it.
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fuzzy")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP TABLE IF EXISTS search_docs")
    op.drop_table("search_cursors")
    op.drop_table("search_sync")
