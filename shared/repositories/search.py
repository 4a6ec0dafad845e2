"""Node search in SQL, and the indexer's bookkeeping.

The search documents (`search_docs`) are kept in step with `nodes` and `publishers` by triggers (migration 0004):
PostgreSQL matches a weighted tsvector and falls back to pg_trgm word similarity for typos; SQLite matches FTS5
(unicode61 words with prefix indexes) and falls back to an FTS5 trigram table. Results are ranked Algolia-style:
discrete relevance tiers first (exact id or name, every word in the id or name, in the tags or publisher, anywhere),
then downloads and rating as tie-breakers."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import TextClause

from shared.db.models import ComfyNode, Node, NodeVersion, Publisher
from shared.db.types import UTCDateTime, utcnow
from shared.ports import SearchFilters
from shared.versions import INSTALLABLE

# The indexer's tables (migration 0004); they have no models, so that autogenerate leaves search_* alone.
_meta = MetaData()
search_sync = Table(
    "search_sync",
    _meta,
    Column("node_id", String(100), primary_key=True),
    Column("indexed_downloads", BigInteger(), nullable=False),
    Column("indexed_at", UTCDateTime(), nullable=False),
)
search_cursors = Table(
    "search_cursors",
    _meta,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
_docs = table("search_docs", column("node_id"), column("exact"), column("fuzzy"))

_WORD = re.compile(r"[^\W_]+")
MAX_WORDS, MAX_WORD_LENGTH = 8, 40
# Typo fallback: how much of the query must be found, as pg_trgm word similarity (PostgreSQL) or as the share of
# the query's trigrams present (SQLite). `vidoe` against `video` is 0.5 and 0.4 respectively.
PG_SIMILARITY, SQLITE_TRIGRAM_SHARE = 0.4, 0.4
MAX_TRIGRAMS = 48
ANY_OS = "OS Independent"
HIDDEN_NODE = ("banned", "deleted")


def query_words(text_: str) -> list[str]:
    """Lower-cased words of a query, split at anything that is not a letter or digit (`-`, `_`, `.`, spaces)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text_.lower()):
        seen.setdefault(word[:MAX_WORD_LENGTH])
    return list(seen)[:MAX_WORDS]


def _trigrams(words: Sequence[str]) -> list[str]:
    """Trigrams of each word padded with a space at both ends, as the typo index stores word boundaries."""
    found: dict[str, None] = {}
    for word in words:
        padded = f" {word} "
        for i in range(len(padded) - 2):
            found.setdefault(padded[i : i + 3])
    return list(found)[:MAX_TRIGRAMS]


def _rating() -> ColumnElement[Any]:
    return func.coalesce(Node.total_star * 1.0 / func.nullif(Node.total_review, 0), 0)


def _json_list_has_any(col: Any, values: Sequence[str]) -> ColumnElement[bool]:
    # Lists are JSON text on both databases; a node that declares nothing supports everything.
    as_text = cast(col, String)
    return or_(as_text == "[]", *[as_text.like(f'%"{v}"%', escape="\\") for v in _escape_like_all(values)])


def _escape_like_all(values: Sequence[str]) -> list[str]:
    return [v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for v in values]


def visible() -> ColumnElement[bool]:
    """A node anyone may find: not banned or deleted, its publisher not banned, and an installable version."""
    # An alias, so that a query over versions can use this condition without its exists() correlating them away.
    version = aliased(NodeVersion)
    return and_(
        Node.status.not_in(HIDDEN_NODE),
        Node.publisher_id.not_in(select(Publisher.id).where(Publisher.status == "banned")),
        exists().where(version.node_id == Node.id, version.status.in_(INSTALLABLE), version.deprecated.is_(False)),
    )


def _filtered(f: SearchFilters) -> Select[Any]:
    stmt = select(Node.id).where(visible())
    if f.supported_os:
        stmt = stmt.where(_json_list_has_any(Node.supported_os, [*f.supported_os, ANY_OS]))
    if f.supported_accelerators:
        stmt = stmt.where(_json_list_has_any(Node.supported_accelerators, f.supported_accelerators))
    if f.repository_url:
        stmt = stmt.where(func.lower(Node.repository_url).contains(f.repository_url.lower(), autoescape=True))
    if f.comfy_node:
        stmt = stmt.where(
            exists()
            .where(
                NodeVersion.node_id == Node.id,
                NodeVersion.status.in_(INSTALLABLE),
                ComfyNode.node_version_id == NodeVersion.id,
                func.lower(ComfyNode.name).contains(f.comfy_node.lower(), autoescape=True),
            )
            .correlate(Node)
        )
    return stmt


class _Matcher:
    """The dialect's full-text conditions for a list of query words."""

    def __init__(self, dialect: str, words: Sequence[str]) -> None:
        self.pg = dialect == "postgresql"
        self.words = words

    def _match(self, scope: str, name: str) -> TextClause:
        if self.pg:
            weights = {"all": "", "title": "A", "meta": "AB"}[scope]
            query = " & ".join(f"'{w}':*{weights}" for w in self.words)
            return text(f"search_docs.document @@ to_tsquery('simple', :{name})").bindparams(**{name: query})
        columns = {"all": "", "title": "{title} : ", "meta": "{title tags publisher} : "}[scope]
        query = columns + "(" + " AND ".join(f'"{w}"*' for w in self.words) + ")"
        sql = f"search_docs.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :{name})"  # noqa: S608
        return text(sql).bindparams(**{name: query})

    def strict(self) -> tuple[ColumnElement[bool] | TextClause, list[Any]]:
        """Every word found, as a word or a word's start; ordered by tier."""
        contains = func.strpos if self.pg else func.instr
        exact = contains(_docs.c.exact, " " + "".join(self.words) + " ") > 0
        tier = case(
            (exact, 4),
            (self._match("title", "q_title"), 3),
            (self._match("meta", "q_meta"), 2),
            else_=1,
        )
        return self._match("all", "q_all"), [tier.desc()]

    def fuzzy(self) -> tuple[ColumnElement[bool] | TextClause, list[Any]]:
        """Close enough to the id, name, tags or publisher; ordered by closeness in steps of a tenth."""
        if self.pg:
            phrase = " ".join(self.words)
            score: ColumnElement[Any] = func.word_similarity(phrase, _docs.c.fuzzy)
            condition: ColumnElement[bool] | TextClause = text("search_docs.fuzzy %> :fuzzy_q").bindparams(
                fuzzy_q=phrase
            )
        else:
            grams = _trigrams(self.words)
            # min(instr(...), 1): SQLite's scalar min, 1 when the trigram is there, 0 when not.
            hits: ColumnElement[Any] = literal(0)
            for gram in grams:
                hits = hits + func.min(func.instr(_docs.c.fuzzy, gram), 1)
            score = hits * 1.0 / len(grams)
            candidates = text(
                "search_docs.rowid IN (SELECT rowid FROM search_fuzzy WHERE search_fuzzy MATCH :fuzzy_q)"
            ).bindparams(fuzzy_q=" OR ".join(f'"{g}"' for g in grams))
            condition = and_(candidates, score >= SQLITE_TRIGRAM_SHARE)
        return condition, [func.round(score * 10).desc()]


class Search:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def _pg(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    # -- search ----------------------------------------------------------------------------------------------
    def find(self, query: str, f: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        """One page of visible node ids, best first, and the number of matches. Typo-tolerant matching is the
        fallback when no node has every word."""
        words = query_words(query)
        base = _filtered(f)
        if not words:
            return self._page(base, [], page, limit)
        matcher = _Matcher(self.s.get_bind().dialect.name, words)
        base = base.join(_docs, _docs.c.node_id == Node.id)
        condition, order = matcher.strict()
        ids, total = self._page(base.where(condition), order, page, limit)
        if total:
            return ids, total
        if self._pg:
            self.s.execute(
                text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"), {"t": str(PG_SIMILARITY)}
            )
        condition, order = matcher.fuzzy()
        return self._page(base.where(condition), order, page, limit)

    def _page(self, stmt: Select[Any], order: list[Any], page: int, limit: int) -> tuple[list[str], int]:
        ranked = stmt.add_columns(func.count().over().label("total")).order_by(
            *order, Node.total_install.desc(), _rating().desc(), Node.id
        )
        rows = self.s.execute(ranked.offset((page - 1) * limit).limit(limit)).all()
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        if page == 1:
            return [], 0
        return [], int(self.s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    # -- what the indexer reads --------------------------------------------------------------------------------
    def visible_ids(self, node_ids: Collection[str]) -> set[str]:
        if not node_ids:
            return set()
        return set(self.s.scalars(select(Node.id).where(Node.id.in_(list(node_ids)), visible())).all())

    def searchable_ids(self) -> list[str]:
        """Visible nodes that have a search document: what the database index can find."""
        stmt = select(Node.id).join(_docs, _docs.c.node_id == Node.id).where(visible()).order_by(Node.id)
        return list(self.s.scalars(stmt).all())

    def visible_version_ids(self, version_ids: Collection[str]) -> set[str]:
        if not version_ids:
            return set()
        stmt = (
            select(NodeVersion.id)
            .join(Node, Node.id == NodeVersion.node_id)
            .where(NodeVersion.id.in_(list(version_ids)), NodeVersion.status.in_(INSTALLABLE), visible())
        )
        return set(self.s.scalars(stmt).all())

    def versions_of(self, node_ids: Collection[str]) -> Sequence[NodeVersion]:
        if not node_ids:
            return []
        stmt = select(NodeVersion).where(NodeVersion.node_id.in_(list(node_ids))).order_by(NodeVersion.id)
        return self.s.scalars(stmt).all()

    def comfy_node_names(self, version_ids: Collection[str]) -> dict[str, list[str]]:
        """Names of the node classes of each version, sorted; active ones only."""
        if not version_ids:
            return {}
        stmt = (
            select(ComfyNode.node_version_id, ComfyNode.name)
            .where(ComfyNode.node_version_id.in_(list(version_ids)), ComfyNode.policy != "banned")
            .order_by(ComfyNode.node_version_id, ComfyNode.name)
        )
        names: dict[str, list[str]] = {}
        for version_id, name in self.s.execute(stmt):
            names.setdefault(version_id, []).append(name)
        return names

    def publisher_node_ids(self, publisher_id: str) -> list[str]:
        return list(self.s.scalars(select(Node.id).where(Node.publisher_id == publisher_id).order_by(Node.id)))

    def node_ids_after(self, after: str | None, limit: int) -> list[str]:
        """Every node id (any status) after `after`, in id order: one keyset batch of a full reindex."""
        stmt = select(Node.id).order_by(Node.id).limit(limit)
        if after is not None:
            stmt = stmt.where(Node.id > after)
        return list(self.s.scalars(stmt).all())

    def count_nodes(self, upto: str | None = None) -> int:
        stmt = select(func.count()).select_from(Node)
        if upto is not None:
            stmt = stmt.where(Node.id <= upto)
        return int(self.s.scalar(stmt) or 0)

    def lock_nodes(self, node_ids: Collection[str]) -> None:
        """Serialise index writes per node until commit, so that two handlers cannot send an older state after a
        newer one. PostgreSQL takes transaction advisory locks (in a fixed order, so no deadlock); on SQLite the
        caller's first write already holds the database's only write lock."""
        if not self._pg:
            return
        for node_id in sorted(set(node_ids)):
            self.s.execute(text("SELECT pg_advisory_xact_lock(hashtext('search:' || :id))"), {"id": node_id})

    # -- the indexer's bookkeeping -----------------------------------------------------------------------------
    def mark_indexed(self, downloads: dict[str, int]) -> None:
        """Record what was sent for each node, so that the download sync only sends changed counts."""
        if not downloads:
            return
        now = utcnow()
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(search_sync).values(
            [{"node_id": k, "indexed_downloads": v, "indexed_at": now} for k, v in sorted(downloads.items())]
        )
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["node_id"],
                set_={"indexed_downloads": stmt.excluded.indexed_downloads, "indexed_at": stmt.excluded.indexed_at},
            )
        )

    def forget(self, node_ids: Collection[str]) -> None:
        if node_ids:
            self.s.execute(delete(search_sync).where(search_sync.c.node_id.in_(list(node_ids))))

    def stale_downloads(self, limit: int) -> list[str]:
        """Visible nodes whose download count changed since it was last sent, or that were never sent."""
        sent = search_sync.c.indexed_downloads
        stmt = (
            select(Node.id)
            .outerjoin(search_sync, search_sync.c.node_id == Node.id)
            .where(visible(), or_(sent.is_(None), sent != Node.total_install))
            .order_by(Node.id)
            .limit(limit)
        )
        return list(self.s.scalars(stmt).all())

    def indexed_since(self, node_ids: Collection[str], since: datetime) -> set[str]:
        """Of these nodes, those sent to the index at or after `since`."""
        if not node_ids:
            return set()
        stmt = select(search_sync.c.node_id).where(
            search_sync.c.node_id.in_(list(node_ids)), search_sync.c.indexed_at >= since
        )
        return set(self.s.scalars(stmt).all())

    def cursor(self, name: str) -> str | None:
        value = self.s.scalar(select(search_cursors.c.value).where(search_cursors.c.name == name))
        return str(value) if value is not None else None

    def set_cursor(self, name: str, value: str) -> None:
        now = utcnow()
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(search_cursors).values(name=name, value=value, updated_at=now)
        self.s.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value, "updated_at": now}))

    def clear_cursor(self, name: str) -> None:
        self.s.execute(delete(search_cursors).where(search_cursors.c.name == name))

    def fill_missing_docs(self) -> int:
        """Give every node without a search document one (after a table rebuild dropped the triggers' work): a
        no-op write to the indexed columns makes the triggers compute it. Returns how many were missing."""
        missing = select(Node.id).where(~exists().where(_docs.c.node_id == Node.id))
        ids = list(self.s.scalars(missing).all())
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.s.execute(
                update(Node).where(Node.id.in_(chunk)).values(name=Node.name),
                execution_options={"synchronize_session": False},
            )
        return len(ids)
