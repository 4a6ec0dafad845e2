"""`GET /nodes/search`: words, filters and a page in; the `/nodes` page shape out."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.handlers.cached import cached_read
from functions.registry.handlers.common import container
from functions.registry.handlers.reads import node_page
from functions.registry.usecases import search
from shared.errors import InvalidInput
from shared.http import params
from shared.http.router import Route
from shared.ports import SearchFilters

# Deep pages are refused rather than sent to the database as huge offsets.
MAX_PAGE = 10_000


@cached_read
def search_nodes(request: Request) -> Response:
    args = request.args
    page = params.integer(args, "page", 1, minimum=1)
    if page > MAX_PAGE:
        raise InvalidInput(f"page must be at most {MAX_PAGE}; narrow the search instead", code="page_too_deep")
    limit = params.integer(args, "limit", 10, minimum=1, maximum=container().settings.max_page_size)
    # Accepted for compatibility and checked, but search never shows banned nodes (list them with /nodes).
    params.boolean(args, "include_banned", False)
    filters = SearchFilters(
        repository_url=args.get("repository_url_search", "").strip(),
        comfy_node=args.get("comfy_node_search", "").strip(),
        supported_os=tuple(params.strings(args, "supported_os")),
        supported_accelerators=tuple(params.strings(args, "supported_accelerator")),
    )
    query = args.get("search", "").strip()
    result = search.search_nodes(container().uow(), container().search, query, filters, page, limit)
    return node_page(result, with_publisher=True)


ROUTES: list[Route] = [Route("GET", "/nodes/search", search_nodes, "searchNodes")]
