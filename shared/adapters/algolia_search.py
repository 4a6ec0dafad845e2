"""The SearchIndex port on Algolia, through the official `algoliasearch` client (v4, synchronous).

The client (and aiohttp, which it imports) is loaded on first use, never at module import, so the registry's cold
start does not pay for it. `hosts` replaces Algolia's own hosts with base URLs such as `http://127.0.0.1:8123`:
tests aim the client at a local stub with it.

Records follow the fields of the service we replace (the registry web app reads `nodes_index` hits directly), plus
what it facets and ranks on. Two filter-only lists make "declares nothing means runs anywhere" expressible as an
Algolia filter: `os_filter` and `accelerator_filter` hold `*` when the node declares nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from shared.ports import SearchFilters, SearchRecord

ANY = "*"
ANY_OS = "OS Independent"
BROWSE_PAGE = 1000

NODES_SETTINGS: dict[str, Any] = {
    # Attribute order is relevance order: a hit in the name or id beats one in the tags, and so on.
    "searchableAttributes": [
        "name,id",
        "tags",
        "publisher.name,publisher_id",
        "comfy_nodes",
        "unordered(description)",
        "repository_url",
    ],
    # Tie-breakers once the textual criteria are equal.
    "customRanking": ["desc(total_install)", "desc(rating)"],
    "attributesForFaceting": [
        "searchable(tags)",
        "searchable(publisher.name)",
        "publisher_id",
        "supported_os",
        "supported_accelerators",
        "latest_version_status",
        "filterOnly(os_filter)",
        "filterOnly(accelerator_filter)",
    ],
    "typoTolerance": True,
    "minWordSizefor1Typo": 4,
    "minWordSizefor2Typos": 8,
    "ignorePlurals": True,
    "removeWordsIfNoResults": "allOptional",
    "attributesToHighlight": ["name", "description"],
    "paginationLimitedTo": 5000,
}
VERSIONS_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["node_id", "version", "unordered(changelog)"],
    "customRanking": ["desc(create_time)"],
    "attributesForFaceting": ["node_id", "filterOnly(status)", "deprecated"],
}


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_string(filters: SearchFilters) -> str:
    """Algolia's filter syntax for the list filters: one OR group per list, ANDed."""
    groups = []
    if filters.supported_os:
        values = [*filters.supported_os, ANY_OS, ANY]
        groups.append("(" + " OR ".join(f"os_filter:{_quote(v)}" for v in values) + ")")
    if filters.supported_accelerators:
        values = [*filters.supported_accelerators, ANY]
        groups.append("(" + " OR ".join(f"accelerator_filter:{_quote(v)}" for v in values) + ")")
    return " AND ".join(groups)


def search_params(query: str, filters: SearchFilters, page: int, limit: int) -> dict[str, Any]:
    """One query's parameters. Algolia cannot match inside a URL or a class name as SQL does, so those searches
    become words of the query, limited to their attribute when they are all that is asked."""
    params: dict[str, Any] = {
        "page": page - 1,
        "hitsPerPage": limit,
        "attributesToRetrieve": ["objectID"],
        "attributesToHighlight": [],
    }
    extra = [(filters.repository_url, "repository_url"), (filters.comfy_node, "comfy_nodes")]
    words = [query.strip()] + [value.strip() for value, _ in extra]
    params["query"] = " ".join(w for w in words if w)
    if not query.strip() and any(value.strip() for value, _ in extra):
        params["restrictSearchableAttributes"] = [name for value, name in extra if value.strip()]
    if where := filter_string(filters):
        params["filters"] = where
    return params


def _host(base_url: str) -> Any:
    from algoliasearch.http.hosts import Host

    parts = urlsplit(base_url if "://" in base_url else f"https://{base_url}")
    if not parts.hostname:
        raise ValueError(f"not a host URL: {base_url!r}")
    return Host(parts.hostname, scheme=parts.scheme or "https", port=parts.port)


class AlgoliaSearchIndex:
    updated_by_indexer = True

    def __init__(
        self,
        app_id: str,
        api_key: str,
        *,
        nodes_index: str = "nodes_index",
        versions_index: str = "node_versions_index",
        hosts: Sequence[str] = (),
        timeout_ms: int = 5000,
    ) -> None:
        if not app_id or not api_key:
            raise ValueError("Algolia needs an application id and an API key")
        self.app_id, self._api_key = app_id, api_key
        self.nodes_index, self.versions_index = nodes_index, versions_index
        self._hosts = list(hosts)
        for base in self._hosts:  # refuse a malformed host now, not on the first write
            if not urlsplit(base if "://" in base else f"https://{base}").hostname:
                raise ValueError(f"not a host URL: {base!r}")
        self._timeout_ms = timeout_ms
        self._built: Any = None
        self._lock = threading.Lock()

    def _client(self) -> Any:
        built = self._built
        if built is not None:
            return built
        with self._lock:
            if self._built is None:
                from algoliasearch.http.hosts import HostsCollection
                from algoliasearch.search.client import SearchClientSync
                from algoliasearch.search.config import SearchConfig

                config = SearchConfig(self.app_id, self._api_key)
                if self._hosts:
                    config.hosts = HostsCollection([_host(h) for h in self._hosts])
                config.connect_timeout = min(2000, self._timeout_ms)
                config.read_timeout = self._timeout_ms
                config.write_timeout = max(self._timeout_ms, 30_000)
                self._built = SearchClientSync.create_with_config(config)
            return self._built

    def close(self) -> None:
        with self._lock:
            built, self._built = self._built, None
        if built is not None:
            built.close()

    # -- writes --------------------------------------------------------------------------------------------------
    def upsert_nodes(self, records: Sequence[SearchRecord]) -> None:
        if records:
            self._client().save_objects(self.nodes_index, [dict(r) for r in records])

    def delete_nodes(self, node_ids: Sequence[str]) -> None:
        if node_ids:
            self._client().delete_objects(self.nodes_index, list(node_ids))

    def upsert_versions(self, records: Sequence[SearchRecord]) -> None:
        if records:
            self._client().save_objects(self.versions_index, [dict(r) for r in records])

    def delete_versions(self, version_ids: Sequence[str]) -> None:
        if version_ids:
            self._client().delete_objects(self.versions_index, list(version_ids))

    def apply_settings(self) -> None:
        client = self._client()
        client.set_settings(self.nodes_index, NODES_SETTINGS)
        client.set_settings(self.versions_index, VERSIONS_SETTINGS)

    # -- reads ---------------------------------------------------------------------------------------------------
    def search(self, query: str, filters: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        response = self._client().search_single_index(self.nodes_index, search_params(query, filters, page, limit))
        return [hit.object_id for hit in response.hits], int(response.nb_hits or 0)

    def node_ids(self) -> Iterator[str]:
        return self._browse(self.nodes_index)

    def version_ids(self) -> Iterator[str]:
        return self._browse(self.versions_index)

    def _browse(self, index: str) -> Iterator[str]:
        params: dict[str, Any] = {"attributesToRetrieve": ["objectID"], "hitsPerPage": BROWSE_PAGE}
        while True:
            response = self._client().browse(index, params)
            for hit in response.hits:
                yield hit.object_id
            if not response.cursor:
                return
            params = {**params, "cursor": response.cursor}
