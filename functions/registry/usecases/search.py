"""`/nodes/search`: the index picks and orders the ids; the rows come from the database, so the answer has the
`/nodes` shape whichever index is configured."""

from __future__ import annotations

from functions.registry.usecases.reads import NodePage
from shared.errors import InvalidInput
from shared.ports import SearchFilters, SearchIndex
from shared.uow import UnitOfWork

MAX_TEXT = 256


def search_nodes(
    uow: UnitOfWork, index: SearchIndex, query: str, filters: SearchFilters, page: int, limit: int
) -> NodePage:
    for name, value in (
        ("search", query),
        ("repository_url_search", filters.repository_url),
        ("comfy_node_search", filters.comfy_node),
    ):
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters", code="query_too_long")
    ids, total = index.search(query, filters, page, limit)
    with uow:
        rows = uow.nodes.get_many(ids)
        latest = uow.versions.latest_for_nodes(list(rows))
        # An external index lags the database: drop what became hidden since it was indexed.
        shown = [
            rows[i]
            for i in ids
            if i in rows
            and i in latest
            and rows[i].status not in ("banned", "deleted")
            and rows[i].publisher.status != "banned"
        ]
        return NodePage(shown, latest, total, page, limit)
