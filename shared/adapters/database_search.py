"""The SearchIndex port on the database itself: the embedded default, and the fallback when Algolia is not set up.

The database is its own index. Triggers keep each node's search document in step with the node and its publisher in
the same transaction as the change, and every search filters on the live state (banned, deleted, no installable
version), so there is nothing to send: the record writes are accepted and dropped, and the settings are the
migration's. (A full reindex still fills in any document a table rebuild lost.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from shared.ports import SearchFilters, SearchRecord
from shared.uow import UnitOfWork


class DatabaseSearchIndex:
    updated_by_indexer = False  # the documents change with the data, by triggers

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    def upsert_nodes(self, records: Sequence[SearchRecord]) -> None:
        """Nothing to send: the triggers wrote the document when the node changed."""

    def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Nothing to remove: a hidden node's document stays, unseen, for when it is shown again."""

    def upsert_versions(self, records: Sequence[SearchRecord]) -> None:
        """Versions are read live from their table."""

    def delete_versions(self, version_ids: Sequence[str]) -> None:
        """Versions are read live from their table."""

    def search(self, query: str, filters: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        with self._uow() as uow:
            return uow.search.find(query, filters, page, limit)

    def apply_settings(self) -> None:
        """Ranking, weights and tokenizers are the migration's; nothing to apply."""

    def node_ids(self) -> Iterator[str]:
        with self._uow() as uow:
            ids = uow.search.searchable_ids()
        return iter(ids)

    def version_ids(self) -> Iterator[str]:
        return iter(())
