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
    Boolean,
    Column,
    ColumnElement,
    Float,
    MetaData,
    Select,
    String,
    Table,
    case,
    column,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from shared.db.models import ComfyNode, Node, NodeVersion
from shared.db.types import UTCDateTime, utcnow
from shared.ports import SearchFilters
from shared.statuses import INSTALLABLE, ComfyNodePolicy

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
# The trigger-kept search documents (migration 0004): the text to match (a tsvector on PostgreSQL; FTS5 tables keyed
# by the document's rowid on SQLite) and what search filters and ranks on.
_RANKING = ("shown", "downloads", "rating", "supported_os", "supported_accelerators")
_TYPES: dict[str, Any] = {"shown": Boolean, "downloads": BigInteger, "rating": Float}
_DOCS = table(
    "search_docs",
    *[column(c, String) for c in ("node_id", "fuzzy", "exact_id", "exact_name")],
    *[column(c, _TYPES.get(c, String)) for c in _RANKING],
)
_PG_MATCH = {
    "all": "search_docs.document @@ to_tsquery('simple', :q_all)",
    "title": "search_docs.document @@ to_tsquery('simple', :q_title)",
    "meta": "search_docs.document @@ to_tsquery('simple', :q_meta)",
}
_PG_EXACT = "search_docs.exact_id = :exact OR search_docs.exact_name = :exact"
_SQLITE_IN_FTS = "search_docs.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH "
_SQLITE_MATCH = {
    "all": _SQLITE_IN_FTS + ":q_all)",
    "title": _SQLITE_IN_FTS + ":q_title)",
    "meta": _SQLITE_IN_FTS + ":q_meta)",
}
_SQLITE_EXACT = (
    "search_docs.rowid IN (SELECT e.rowid FROM search_docs AS e WHERE e.exact_id = :exact OR e.exact_name = :exact)"
)
_SQLITE_FUZZY = "search_docs.rowid IN (SELECT rowid FROM search_fuzzy WHERE search_fuzzy MATCH :fuzzy_q)"

_PG_LOCK = text(
    "SELECT pg_advisory_xact_lock(k) FROM"
    " (SELECT DISTINCT hashtext('search:' || id) AS k FROM unnest(CAST(:ids AS text[])) AS id ORDER BY k) AS keys"
)
_WORD = re.compile(r"[^\W_]+")
MAX_WORDS, MAX_WORD_LENGTH = 8, 40
# Typo fallback: how much of the query must be found, as pg_trgm word similarity (PostgreSQL) or as the share of
# the query's trigrams present (SQLite). `vidoe` against `video` is 0.5 and 0.4 respectively.
PG_SIMILARITY, SQLITE_TRIGRAM_SHARE = 0.4, 0.4
MAX_TRIGRAMS = 48
ANY_OS = "OS Independent"


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


def _json_list_has_any(col: Any, values: Sequence[str]) -> ColumnElement[bool]:
    # The lists are JSON text; a node that declares nothing supports everything.
    escaped = [v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for v in values]
    return or_(col == "[]", *[col.like(f'%"{v}"%', escape="\\") for v in escaped])


def _shown() -> ColumnElement[bool]:
    """The visibility rule, kept per node by the triggers: not banned or deleted, publisher not banned, and an
    installable version that is not deprecated."""
    return _DOCS.c.shown == true()


class _Sql:
    """The dialect's full-text conditions. PostgreSQL tests each document's own columns; SQLite asks its FTS5
    tables (and the exact-match indexes) for rowids, so that ranking reads only the ranking index."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def filtered(self, f: SearchFilters) -> Select[Any]:
        r = _DOCS.c
        stmt = select(r.node_id).where(_shown())
        if f.supported_os:
            stmt = stmt.where(_json_list_has_any(r.supported_os, [*f.supported_os, ANY_OS]))
        if f.supported_accelerators:
            stmt = stmt.where(_json_list_has_any(r.supported_accelerators, f.supported_accelerators))
        if f.repository_url:
            needle = f.repository_url.lower()
            stmt = stmt.where(
                r.node_id.in_(select(Node.id).where(func.lower(Node.repository_url).contains(needle, autoescape=True)))
            )
        if f.comfy_node:
            providing = (
                select(NodeVersion.node_id)
                .join(ComfyNode, ComfyNode.node_version_id == NodeVersion.id)
                .where(
                    NodeVersion.status.in_(INSTALLABLE),
                    func.lower(ComfyNode.name).contains(f.comfy_node.lower(), autoescape=True),
                )
            )
            stmt = stmt.where(r.node_id.in_(providing))
        return stmt

    def match(self, words: Sequence[str], scope: str) -> TextClause:
        """Every word anywhere (`all`), in the id or name (`title`), or in those, the tags or the publisher (`meta`).
        Whole words, but the last may be the start of one, as a query typed so far is (Algolia's `prefixLast`); a
        prefix of a common word costs far more than the word."""
        last = len(words) - 1
        if self.pg:
            weights = {"all": "", "title": "A", "meta": "AB"}[scope]
            labels = [("*" if i == last else "") + weights for i in range(len(words))]
            query = " & ".join(
                f"'{w}'" + (f":{label}" if label else "") for w, label in zip(words, labels, strict=True)
            )
        else:
            columns = {"all": "", "title": "{title} : ", "meta": "{title tags publisher} : "}[scope]
            terms = [f'"{w}"' + ("*" if i == last else "") for i, w in enumerate(words)]
            query = columns + "(" + " AND ".join(terms) + ")"
        return text((_PG_MATCH if self.pg else _SQLITE_MATCH)[scope]).bindparams(**{f"q_{scope}": query})

    def exact(self, words: Sequence[str]) -> TextClause:
        """The id or the name, every separator removed, is the query."""
        return text(_PG_EXACT if self.pg else _SQLITE_EXACT).bindparams(exact="".join(words))

    def strict(self, words: Sequence[str]) -> tuple[TextClause, list[Any]]:
        """Every word found; in tiers: exact id or name, all in the id or name, in those or the tags or publisher,
        anywhere (the description too)."""
        tier = case(
            (self.exact(words), 4),
            (self.match(words, "title"), 3),
            (self.match(words, "meta"), 2),
            else_=1,
        )
        return self.match(words, "all"), [tier.desc()]

    def fuzzy(self, stmt: Select[Any], words: Sequence[str]) -> tuple[Select[Any], list[Any]]:
        """Close enough to the id, name, tags or publisher; ordered by closeness in steps of a tenth."""
        if self.pg:
            phrase = " ".join(words)
            stmt = stmt.where(text("search_docs.fuzzy %> :fuzzy_q").bindparams(fuzzy_q=phrase))
            score: ColumnElement[Any] = func.word_similarity(phrase, _DOCS.c.fuzzy)
        else:
            grams = _trigrams(words)
            # min(instr(...), 1): SQLite's scalar min, 1 when the trigram is there, 0 when not.
            hits: ColumnElement[Any] = literal(0)
            for gram in grams:
                hits = hits + func.min(func.instr(_DOCS.c.fuzzy, gram), 1)
            score = hits * 1.0 / len(grams)
            candidates = text(_SQLITE_FUZZY).bindparams(fuzzy_q=" OR ".join(f'"{g}"' for g in grams))
            stmt = stmt.where(candidates, score >= SQLITE_TRIGRAM_SHARE)
        return stmt, [func.round(score * 10).desc()]


class Search:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def _pg(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    @property
    def _sql(self) -> _Sql:
        return _Sql(self.s.get_bind().dialect.name)

    # -- search ----------------------------------------------------------------------------------------------
    def ranked(self, query: str, f: SearchFilters, upto: int) -> tuple[list[str], int]:
        """The first `upto` visible node ids, best first, and the number of matches (what a memo of this search
        keeps, so that its next pages cost nothing)."""
        return self.find(query, f, 1, upto)

    def find(self, query: str, f: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        """One page of visible node ids, best first, and the number of matches. Typo-tolerant matching is the
        fallback when no node has every word."""
        sql = self._sql
        words = query_words(query)
        base = sql.filtered(f)
        if not words:
            return self._page(sql, base, [], page, limit)
        condition, order = sql.strict(words)
        ids, total = self._page(sql, base.where(condition), order, page, limit)
        if total:
            return ids, total
        if sql.pg:
            # Transaction-local: the similarity threshold of `%>`, and the trigram index rather than a scan (the
            # planner does not know how costly similarity is per row, and would scan a small table).
            for name, value in (("pg_trgm.word_similarity_threshold", str(PG_SIMILARITY)), ("enable_seqscan", "off")):
                self.s.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
        stmt, order = sql.fuzzy(base, words)
        return self._page(sql, stmt, order, page, limit)

    def _page(self, sql: _Sql, stmt: Select[Any], order: list[Any], page: int, limit: int) -> tuple[list[str], int]:
        """The count, then the page: two queries, but neither materialises every match (a window count would, and
        the page's top-N sort, or on SQLite an index in ranking order, stops early)."""
        total = int(self.s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        if not total or (page - 1) * limit >= total:
            return [], total
        r = _DOCS.c
        ranked = stmt.order_by(*order, r.downloads.desc(), r.rating.desc(), r.node_id)
        return list(self.s.scalars(ranked.offset((page - 1) * limit).limit(limit))), total

    # -- what the indexer reads --------------------------------------------------------------------------------
    def visible_ids(self, node_ids: Collection[str]) -> set[str]:
        """Of these nodes, those anyone may find."""
        if not node_ids:
            return set()
        stmt = select(_DOCS.c.node_id).where(_DOCS.c.node_id.in_(list(node_ids)), _shown())
        return set(self.s.scalars(stmt).all())

    def searchable_ids(self) -> list[str]:
        """Every node the database index can find."""
        return list(self.s.scalars(select(_DOCS.c.node_id).where(_shown()).order_by(_DOCS.c.node_id)))

    def visible_version_ids(self, version_ids: Collection[str]) -> set[str]:
        """Of these versions, the installable ones of nodes anyone may find."""
        if not version_ids:
            return set()
        stmt = (
            select(NodeVersion.id)
            .join(_DOCS, _DOCS.c.node_id == NodeVersion.node_id)
            .where(NodeVersion.id.in_(list(version_ids)), NodeVersion.status.in_(INSTALLABLE), _shown())
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
            .where(ComfyNode.node_version_id.in_(list(version_ids)), ComfyNode.policy != ComfyNodePolicy.BANNED)
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
        """Serialise index writes per node until commit, so that two writers cannot send an older state after a
        newer one. PostgreSQL: transaction advisory locks, taken in key order so that two writers cannot deadlock.
        SQLite: its one write lock, taken now by a write that changes nothing."""
        if not node_ids:
            return
        if self._pg:
            self.s.execute(_PG_LOCK, {"ids": sorted(set(node_ids))})
        else:
            self.s.execute(update(search_cursors).where(false()).values(value=search_cursors.c.value))

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
        r, sent = _DOCS.c, search_sync.c.indexed_downloads
        stmt = (
            select(r.node_id)
            .outerjoin(search_sync, search_sync.c.node_id == r.node_id)
            .where(_shown(), or_(sent.is_(None), sent != r.downloads))
            .order_by(r.node_id)
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
        missing = select(Node.id).where(Node.id.not_in(select(_DOCS.c.node_id)))
        ids = list(self.s.scalars(missing).all())
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.s.execute(
                update(Node).where(Node.id.in_(chunk)).values(name=Node.name),
                execution_options={"synchronize_session": False},
            )
        return len(ids)
