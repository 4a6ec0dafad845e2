"""One page of a `/nodes` listing by seek instead of OFFSET, with the count remembered per catalog tag.

The order is the client's sort columns, then the id (a total order). A page at row offset `o` whose predecessor's
key the memo knows is `WHERE (key) > (known) ORDER BY key LIMIT n`, an index walk of `n` rows however deep the page;
a page the memo knows nothing near walks from the nearest known start, and leaves what it learnt for the next one.
ComfyUI-Manager pages 1, 2, 3... so each of its pages seeks from the one before. Sorting by rating (a nullable
expression) is paged by OFFSET as before."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import Select, and_, func, or_
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


def page_ids(
    session: Session,
    filtered: Select[Any],
    order: Sequence[tuple[Any, bool]],
    entry: Listing | None,
    page: int,
    limit: int,
    *,
    seekable: bool,
) -> tuple[list[str], int]:
    """The ids of one page and the number of matches; `entry` is what the memo knows of this listing (None: nothing,
    and nothing is learnt). `order` ends with (Node.id, ascending)."""
    total = entry.total if entry is not None else None
    offset = (page - 1) * limit
    if total is None:
        total = int(session.scalar(filtered.with_only_columns(func.count(Node.id))) or 0)
        if entry is not None:
            entry.total = total
        if offset >= total:
            return [], total
    # With a remembered count the page is still read (and finds nothing past the end): every answer comes from the
    # database, and a database that cannot answer is a 503, never a page made from memory.
    columns = [c.desc() if d else c.asc() for c, d in order]
    keyed = filtered.with_only_columns(*[c for c, _ in order]).order_by(*columns)
    if entry is None or not seekable:
        return list(session.scalars(keyed.with_only_columns(Node.id).offset(offset).limit(limit))), total
    return _seek(session, keyed, order, entry, offset, limit), total


def _seek(
    session: Session, keyed: Select[Any], order: Sequence[tuple[Any, bool]], entry: Listing, offset: int, limit: int
) -> list[str]:
    known, key = entry.start_before(offset)
    stmt = keyed if key is None else keyed.where(_after(order, key))
    skip = offset - known
    connection = session.connection()  # plain rows: no ORM execution layer for a list of sort keys
    if skip:  # one row more, the page's predecessor, whose key starts this page from now on
        rows = connection.execute(stmt.offset(skip - 1).limit(limit + 1)).all()
        if rows:
            entry.remember(offset, tuple(rows[0]))
        rows = rows[1:]
    else:
        rows = connection.execute(stmt.limit(limit)).all()
    if len(rows) == limit:
        entry.remember(offset + limit, tuple(rows[-1]))
    return [row[-1] for row in rows]
