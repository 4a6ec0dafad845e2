"""The SearchIndex port on the database itself: the embedded default, and the fallback when Algolia is not set up.

The database is its own index. Triggers keep each node's search document in step with the node and its publisher in
the same transaction as the change, and every search filters on the live state (banned, deleted, no installable
version), so there is nothing to send: the record writes are accepted and dropped, and the settings are the
migration's. (A full reindex still fills in any document a table rebuild lost.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from shared.page_memo import PageMemo
from shared.ports import SearchFilters, SearchRecord
from shared.repositories.search import query_words
from shared.uow import UnitOfWork

# How much of a search's ranking one query keeps: ten pages of 30, or three of the largest size.
RANKED_WINDOW = 300


class DatabaseSearchIndex:
    updated_by_indexer = False  # the documents change with the data, by triggers

    def __init__(self, uow: Callable[[], UnitOfWork], memo: PageMemo | None = None) -> None:
        self._uow = uow
        self._memo = memo  # per catalog tag: each search's number of matches and the first ids of its ranking

    def upsert_nodes(self, records: Sequence[SearchRecord]) -> None:
        """Nothing to send: the triggers wrote the document when the node changed."""

    def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Nothing to remove: a hidden node's document stays, unseen, for when it is shown again."""

    def upsert_versions(self, records: Sequence[SearchRecord]) -> None:
        """Versions are read live from their table."""

    def delete_versions(self, version_ids: Sequence[str]) -> None:
        """Versions are read live from their table."""

    def search(self, query: str, filters: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        """A page within the first RANKED_WINDOW ids comes from what the memo holds of this search under the current
        catalog tag, or from one query that ranks the matches once and keeps that many; deeper pages are counted and
        ranked as they come."""
        start, end = (page - 1) * limit, page * limit
        entry = self._memo.listing(("search", tuple(query_words(query)), filters)) if self._memo is not None else None
        if entry is not None and entry.total is not None and (end <= len(entry.ranked) or start >= entry.total):
            return entry.ranked[start:end], entry.total
        with self._uow() as uow:
            if entry is None or end > RANKED_WINDOW:
                return uow.search.find(query, filters, page, limit)
            ranked, total = uow.search.ranked(query, filters, RANKED_WINDOW)
        entry.ranked, entry.total = ranked, total
        return ranked[start:end], total

    def apply_settings(self) -> None:
        """Ranking, weights and tokenizers are the migration's; nothing to apply."""

    def node_ids(self) -> Iterator[str]:
        with self._uow() as uow:
            ids = uow.search.searchable_ids()
        return iter(ids)

    def version_ids(self) -> Iterator[str]:
        return iter(())
