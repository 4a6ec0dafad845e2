"""search: full-text and typo-tolerant node search, indexer state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00

Every object here is named `search_*`. The models do not describe them (an FTS5 table and its shadow tables, a
tsvector, trigram indexes, triggers), so autogenerate must leave that prefix alone.

- `search_docs`: one search document per node, kept in step with `nodes` and `publishers` by triggers in the same
  transaction as the change. PostgreSQL keeps a weighted tsvector (id and name A, tags and publisher B, description
  D) under a GIN index, and a lower-cased word string under a pg_trgm GIN index for typos. SQLite keeps the text
  columns behind two external-content FTS5 tables: `search_fts` (unicode61 words, prefix indexes) and
  `search_fuzzy` (trigram tokenizer, for typos).
- `search_sync`: what the indexer last sent for each node (downloads, when), so that download counts are sent in
  batches by a periodic job rather than one write per install.
- `search_cursors`: where an interrupted full reindex resumes.

SQLite drops a table's triggers with the table: a later batch migration that rebuilds `nodes` or `publishers`
must create the `search_*` triggers again (the indexer's reindex then fills in any document that is missing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Punctuation that separates words in ids and names; SQLite has no regexp_replace to do this in one call.
_PUNCTUATION = ("-", "_", ".", "/", ":", ",", ";", "(", ")", "[", "]", "'", '"', "&", "+", "!", "?", "#", "@")


def _sqlite_strip(expr: str, into: str) -> str:
    for ch in _PUNCTUATION:
        expr = f"replace({expr}, '{ch.replace(chr(39), chr(39) * 2)}', '{into}')"
    return expr


def _sqlite_compact(expr: str) -> str:
    """`Video-Helper Suite` -> `videohelpersuite`: what an exact match compares."""
    return f"replace({_sqlite_strip(f'lower({expr})', '')}, ' ', '')"


def _sqlite_spaced(expr: str) -> str:
    return _sqlite_strip(f"lower({expr})", " ")


_SQLITE_TAGS = (
    "coalesce(CASE WHEN json_valid(n.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(n.tags)) END, '')"
)


def _sqlite_upsert(where: str) -> str:
    fuzzy_source = f"n.id || ' ' || n.name || ' ' || {_SQLITE_TAGS} || ' ' || p.id || ' ' || p.name"
    return f"""
    INSERT INTO search_docs (node_id, title, tags, publisher, description, fuzzy, exact)
    SELECT n.id,
           n.id || ' ' || n.name || ' ' || {_sqlite_compact("n.id")} || ' ' || {_sqlite_compact("n.name")},
           {_SQLITE_TAGS},
           p.id || ' ' || p.name,
           n.description,
           ' ' || {_sqlite_spaced(fuzzy_source)} || ' ',
           ' ' || {_sqlite_compact("n.id")} || ' ' || {_sqlite_compact("n.name")} || ' '
    FROM nodes n JOIN publishers p ON p.id = n.publisher_id
    WHERE {where}
    ON CONFLICT (node_id) DO UPDATE SET
        title = excluded.title, tags = excluded.tags, publisher = excluded.publisher,
        description = excluded.description, fuzzy = excluded.fuzzy, exact = excluded.exact;
    """


_FTS_COLUMNS = "title, tags, publisher, description"


def _sqlite_upgrade() -> None:
    op.execute(
        """
        CREATE TABLE search_docs (
            rid INTEGER PRIMARY KEY,
            node_id VARCHAR(100) NOT NULL UNIQUE,
            title TEXT NOT NULL, tags TEXT NOT NULL, publisher TEXT NOT NULL, description TEXT NOT NULL,
            fuzzy TEXT NOT NULL, exact TEXT NOT NULL
        )
        """
    )
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
    insert_new = (
        f"INSERT INTO search_fts (rowid, {_FTS_COLUMNS}) VALUES ({new_values});"
        " INSERT INTO search_fuzzy (rowid, fuzzy) VALUES (new.rid, new.fuzzy);"
    )
    delete_old = (
        f"INSERT INTO search_fts (search_fts, rowid, {_FTS_COLUMNS}) VALUES ({old_values});"
        " INSERT INTO search_fuzzy (search_fuzzy, rowid, fuzzy) VALUES ('delete', old.rid, old.fuzzy);"
    )
    op.execute(f"CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN {insert_new} END")
    op.execute(f"CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN {delete_old} END")
    op.execute(f"CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN {delete_old} {insert_new} END")
    op.execute(f"CREATE TRIGGER search_nodes_ai AFTER INSERT ON nodes BEGIN {_sqlite_upsert('n.id = new.id')} END")
    op.execute(
        "CREATE TRIGGER search_nodes_au AFTER UPDATE OF id, name, description, tags, publisher_id ON nodes BEGIN"
        " DELETE FROM search_docs WHERE node_id = old.id AND old.id <> new.id;"
        f" {_sqlite_upsert('n.id = new.id')} END"
    )
    op.execute("CREATE TRIGGER search_nodes_ad AFTER DELETE ON nodes BEGIN DELETE FROM search_docs WHERE node_id = old.id; END")
    op.execute(
        "CREATE TRIGGER search_publishers_au AFTER UPDATE OF id, name ON publishers BEGIN"
        f" {_sqlite_upsert('n.publisher_id = new.id')} END"
    )
    op.execute(_sqlite_upsert("1 = 1"))


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
_PG_EXACT = f"' ' || {_pg_compact('n.id')} || ' ' || {_pg_compact('n.name')} || ' '"

_PG_UPSERT = f"""
CREATE FUNCTION search_docs_upsert(ids text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_docs (node_id, document, fuzzy, exact)
    SELECT n.id,
           setweight(to_tsvector('simple', {_PG_TITLE}), 'A')
           || setweight(to_tsvector('simple', {_PG_META}), 'B')
           || setweight(to_tsvector('simple', {_pg_spaced('n.description')}), 'D'),
           ' ' || {_PG_FUZZY} || ' ',
           {_PG_EXACT}
    FROM nodes n JOIN publishers p ON p.id = n.publisher_id
    WHERE n.id = ANY(ids)
    ON CONFLICT (node_id) DO UPDATE SET
        document = EXCLUDED.document, fuzzy = EXCLUDED.fuzzy, exact = EXCLUDED.exact
$$
"""

_PG_NODE_TRIGGER = """
CREATE FUNCTION search_nodes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM search_docs WHERE node_id = OLD.id;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
        DELETE FROM search_docs WHERE node_id = OLD.id;
    END IF;
    PERFORM search_docs_upsert(ARRAY[NEW.id]::text[]);
    RETURN NEW;
END
$$
"""

_PG_PUBLISHER_TRIGGER = """
CREATE FUNCTION search_publishers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_docs_upsert(ARRAY(SELECT id FROM nodes WHERE publisher_id = NEW.id)::text[]);
    RETURN NEW;
END
$$
"""


def _pg_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE TABLE search_docs (node_id VARCHAR(100) PRIMARY KEY, document tsvector NOT NULL,"
        " fuzzy TEXT NOT NULL, exact TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX search_docs_document_idx ON search_docs USING gin (document)")
    op.execute("CREATE INDEX search_docs_fuzzy_idx ON search_docs USING gin (fuzzy gin_trgm_ops)")
    op.execute(_PG_UPSERT)
    op.execute(_PG_NODE_TRIGGER)
    op.execute(_PG_PUBLISHER_TRIGGER)
    op.execute(
        "CREATE TRIGGER search_nodes_changed AFTER INSERT OR DELETE OR UPDATE OF id, name, description, tags,"
        " publisher_id ON nodes FOR EACH ROW EXECUTE FUNCTION search_nodes_changed()"
    )
    op.execute(
        "CREATE TRIGGER search_publishers_changed AFTER UPDATE OF id, name ON publishers"
        " FOR EACH ROW EXECUTE FUNCTION search_publishers_changed()"
    )
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
        op.execute("DROP TRIGGER IF EXISTS search_publishers_changed ON publishers")
        op.execute("DROP TRIGGER IF EXISTS search_nodes_changed ON nodes")
        op.execute("DROP FUNCTION IF EXISTS search_publishers_changed()")
        op.execute("DROP FUNCTION IF EXISTS search_nodes_changed()")
        op.execute("DROP FUNCTION IF EXISTS search_docs_upsert(text[])")
        op.execute("DROP TABLE IF EXISTS search_docs")
        # pg_trgm stays: it may have been there before us, and other objects may use it.
    else:
        for trigger in ("search_publishers_au", "search_nodes_ad", "search_nodes_au", "search_nodes_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for trigger in ("search_docs_au", "search_docs_ad", "search_docs_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fuzzy")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP TABLE IF EXISTS search_docs")
    op.drop_table("search_cursors")
    op.drop_table("search_sync")
