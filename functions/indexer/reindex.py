"""The full reindex: every node in id order, in batches (keyset pagination), resumable, then the strays.

A cursor (`search_cursors`) records the last node of each committed batch, so a run that stops (a time budget, a
crash, a deploy) resumes after it. Once every node has been sent, the index's own ids are read back and whatever
the database no longer shows is deleted."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from typing import TextIO

from functions.indexer.usecases import UowFactory, sync_nodes
from shared.db.types import utcnow
from shared.ports import SearchIndex

CURSOR = "reindex"
CHECK_BATCH = 1000

Progress = Callable[[int, int], None]


@dataclass
class Reindexed:
    nodes: int = 0  # nodes looked at by this run
    shown: int = 0
    hidden: int = 0
    skipped: int = 0  # indexed more recently than `min_age`
    removed_nodes: int = 0
    removed_versions: int = 0
    complete: bool = False


def reindex(
    uow_factory: UowFactory,
    index: SearchIndex,
    *,
    batch: int = 500,
    resume: bool = False,
    min_age: timedelta | None = None,
    budget_seconds: float | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Reindexed:
    """Send every node's record. With `resume`, start after the cursor an unfinished run left; otherwise from
    the first node. With `min_age`, nodes sent more recently than that are skipped. With `budget_seconds`, stop
    after the batch that crosses it (`complete` is then False and the cursor stays)."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = clock()
    index.apply_settings()
    cursor, done, total = _start(uow_factory, resume)
    result = Reindexed()
    if progress:
        progress(done, total)
    while budget_seconds is None or clock() - started < budget_seconds:
        cursor, sent = _batch(uow_factory, index, cursor, batch, min_age, result)
        if not sent:
            result.removed_nodes, result.removed_versions = remove_strays(uow_factory, index)
            with uow_factory() as uow:
                uow.search.clear_cursor(CURSOR)
                uow.commit()
            result.complete = True
            return result
        done += sent
        if progress:
            progress(min(done, total), max(total, done))
    return result


def _start(uow_factory: UowFactory, resume: bool) -> tuple[str | None, int, int]:
    """Where this run starts (after the cursor, or from the first node), how many nodes that skips, and how many
    there are."""
    with uow_factory() as uow:
        # Visibility comes from the search documents: give any node that lost its document one first.
        if uow.search.fill_missing_docs():
            uow.readers_changed()  # nodes search could not find are found now: cached searches are stale
        cursor = uow.search.cursor(CURSOR) if resume else None
        if not resume:
            uow.search.clear_cursor(CURSOR)
        uow.commit()
        done = uow.search.count_nodes(upto=cursor) if cursor is not None else 0
        return cursor, done, uow.search.count_nodes()


def _batch(
    uow_factory: UowFactory,
    index: SearchIndex,
    cursor: str | None,
    batch: int,
    min_age: timedelta | None,
    result: Reindexed,
) -> tuple[str | None, int]:
    """Send the next `batch` nodes after `cursor` and move the stored cursor past them, in one transaction; the new
    cursor and how many nodes the batch had (0 at the end)."""
    with uow_factory() as uow:
        ids = uow.search.node_ids_after(cursor, batch)
        if not ids:
            return cursor, 0
        todo = ids
        if min_age is not None:
            recent = uow.search.indexed_since(ids, utcnow() - min_age)
            todo = [i for i in ids if i not in recent]
        synced = sync_nodes(uow, index, todo)
        uow.search.set_cursor(CURSOR, ids[-1])
        uow.commit()
    result.nodes += len(ids)
    result.shown += synced.shown
    result.hidden += synced.hidden
    result.skipped += len(ids) - len(todo)
    return ids[-1], len(ids)


def _chunks(ids: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(ids, size)):
        yield chunk


def remove_strays(uow_factory: UowFactory, index: SearchIndex) -> tuple[int, int]:
    """Delete the index's node and version records that the database no longer shows."""
    # Read every id first: deleting while paging through the index could make it skip records.
    node_ids, version_ids = list(index.node_ids()), list(index.version_ids())
    stray_nodes: list[str] = []
    stray_versions: list[str] = []
    with uow_factory() as uow:
        for chunk in _chunks(iter(node_ids), CHECK_BATCH):
            shown = uow.search.visible_ids(chunk)
            stray_nodes += [i for i in chunk if i not in shown]
        for chunk in _chunks(iter(version_ids), CHECK_BATCH):
            shown = uow.search.visible_version_ids(chunk)
            stray_versions += [i for i in chunk if i not in shown]
    for chunk in _chunks(iter(stray_nodes), CHECK_BATCH):
        index.delete_nodes(chunk)
    for chunk in _chunks(iter(stray_versions), CHECK_BATCH):
        index.delete_versions(chunk)
    return len(stray_nodes), len(stray_versions)


class ProgressBar:
    """`reindex [#######.....]  3500/5000 nodes  70%` on one line of stderr, redrawn in place on a terminal and
    printed once per tenth otherwise (so logs stay short)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream, self.width = stream or sys.stderr, width
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(self.width * share)
        line = f"reindex [{'#' * filled}{'.' * (self.width - filled)}] {done:>7}/{total} nodes {share:>4.0%}"
        if self.stream.isatty():
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        elif int(share * 10) != self._last_tenth:
            self._last_tenth = int(share * 10)
            self.stream.write(line + "\n")
        self.stream.flush()
