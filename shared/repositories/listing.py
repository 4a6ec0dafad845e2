"""One page of a `/nodes` listing by seek instead of OFFSET, with the count remembered per catalog tag.

The order is the client's sort columns, then the id (a total order). A page at row offset `o` whose predecessor's
key the memo knows is `WHERE (key) > (known) ORDER BY key LIMIT n`, an index walk of `n` rows however deep the page;
a page the memo knows nothing near walks from the nearest known start, and leaves what it learnt for the next one.
ComfyUI-Manager pages 1, 2, 3... so each of its pages seeks from the one before. Sorting by rating (a nullable
expression) is paged by OFFSET as before."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, Select, and_, bindparam, func, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shared.db.models import Node
from shared.page_memo import Listing, PageMemo
from shared.repositories.ports import NodeFilter

# Sort columns that can be sought: never NULL. Rating is a ratio that is NULL without reviews.
UNSEEKABLE = frozenset({"rating"})


def seekable(f: NodeFilter) -> bool:
    return not any(name in UNSEEKABLE for name, _ in f.sort)


def entry(memo: PageMemo | None, f: NodeFilter) -> Listing | None:
    return memo.listing(listing_key(f)) if memo is not None else None


def listing_key(f: NodeFilter) -> Hashable:
    """Everything that decides which nodes a listing shows and in what order; nothing about the page."""
    return (
        "nodes",
        f.include_banned,
        f.changed_since,
        tuple(f.node_ids),
        f.publisher_id,
        tuple(tuple(v) for v in f.supported_os),
        tuple(tuple(v) for v in f.supported_accelerators),
        tuple(f.sort),
        f.comfyui_version_key,
    )


def _after(order: Sequence[tuple[Any, bool]], key: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after `key` in this order: (a > x) OR (a = x AND b > y) ..., each comparison in its column's direction."""
    clauses = []
    for i, (column, descending) in enumerate(order):
        ties = [c == v for (c, _), v in zip(order[:i], key[:i], strict=True)]
        clauses.append(and_(*ties, column < key[i] if descending else column > key[i]))
    return or_(*clauses)


@dataclass(frozen=True)
class Statements:
    """A listing's statements, built once per listing: the page and the seek position are parameters (`skip`,
    `rows`, `key_0`...), so a page costs no statement building and no new cache key."""

    count: Select[Any]
    by_offset: Select[Any]  # the ids, in order, `skip` rows in
    from_start: Select[Any]  # the sort keys and id, in order, `skip` rows in
    from_key: Select[Any]  # the same after the row whose sort keys are key_0, key_1...


_SKIP, _ROWS = bindparam("skip", type_=Integer()), bindparam("rows", type_=Integer())


def _build(base: Select[Any], order: tuple[tuple[Any, bool], ...]) -> Statements:
    keyed = base.with_only_columns(*[c for c, _ in order]).order_by(*[c.desc() if d else c.asc() for c, d in order])
    after = _after(order, [bindparam(f"key_{i}", type_=c.type) for i, (c, _) in enumerate(order)])
    return Statements(
        count=base.with_only_columns(func.count(Node.id)),
        by_offset=keyed.with_only_columns(Node.id).offset(_SKIP).limit(_ROWS),
        from_start=keyed.offset(_SKIP).limit(_ROWS),
        from_key=keyed.where(after).offset(_SKIP).limit(_ROWS),
    )


# Listings are few (filters x sorts); an incremental sync's `timestamp` makes one per caller, so the dict is bounded.
_STATEMENTS: dict[Hashable, Statements] = {}
STATEMENTS_KEPT = 512


def statements(f: NodeFilter, filtered: Callable[[], Select[Any]], order: Sequence[tuple[Any, bool]]) -> Statements:
    """The listing's statements; `filtered` builds its filtered select and `order` ends with (Node.id, ascending).
    Kept per listing (a statement is immutable, so instances' threads share them)."""
    key = listing_key(f)
    cached = _STATEMENTS.get(key)
    if cached is None:
        if len(_STATEMENTS) >= STATEMENTS_KEPT:
            _STATEMENTS.clear()
        cached = _STATEMENTS[key] = _build(filtered(), tuple(order))
    return cached


def page_ids(
    session: Session, stmts: Statements, entry: Listing | None, page: int, limit: int, *, seekable: bool
) -> tuple[list[str], int]:
    """The ids of one page and the number of matches; `entry` is what the memo knows of this listing (None: nothing,
    and nothing is learnt)."""
    connection = session.connection()  # plain rows: no ORM execution layer for counts and sort keys
    total = entry.total if entry is not None else None
    offset = (page - 1) * limit
    if total is None:
        total = int(connection.execute(stmts.count).scalar() or 0)
        if entry is not None:
            entry.total = total
        if offset >= total:
            return [], total
    # With a remembered count the page is still read (and finds nothing past the end): every answer comes from the
    # database, and a database that cannot answer is a 503, never a page made from memory.
    if entry is None or not seekable:
        return list(connection.execute(stmts.by_offset, {"skip": offset, "rows": limit}).scalars()), total
    return _seek(connection, stmts, entry, offset, limit), total


def _seek(connection: Connection, stmts: Statements, entry: Listing, offset: int, limit: int) -> list[str]:
    known, key = entry.start_before(offset)
    stmt, params = stmts.from_start, {}
    if key is not None:
        stmt, params = stmts.from_key, {f"key_{i}": value for i, value in enumerate(key)}
    skip = offset - known
    if skip:  # one row more, the page's predecessor, whose key starts this page from now on
        rows = connection.execute(stmt, {**params, "skip": skip - 1, "rows": limit + 1}).all()
        if rows:
            entry.remember(offset, tuple(rows[0]))
        rows = rows[1:]
    else:
        rows = connection.execute(stmt, {**params, "skip": 0, "rows": limit}).all()
    if len(rows) == limit:
        entry.remember(offset + limit, tuple(rows[-1]))
    return [row[-1] for row in rows]
