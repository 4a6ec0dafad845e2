"""Which archives are public, and taking them back: the rules the registry and the scanner both apply.

A version's judged archive is public (released) exactly while the version is installable and neither its node nor
its publisher is banned. Only the scanner releases (functions/scanner/release.py); whoever makes a version or node
unservable withdraws its archives here, before committing, so that nothing banned or flagged stays readable once
the change is visible."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from shared import archives, statuses
from shared.db.models import Node, NodeVersion
from shared.ports import BlobStore
from shared.repositories.views import VersionView
from shared.statuses import NodeStatus, PublisherStatus, VersionStatus

# A publisher ban may withdraw thousands of archives; each is one request to the store.
_PARALLEL = 16


def servable(row: NodeVersion, node: Node) -> bool:
    return (
        row.status in statuses.INSTALLABLE
        and node.status != NodeStatus.BANNED
        and node.publisher.status != PublisherStatus.BANNED
    )


def withdraw(blobs: BlobStore, versions_of: Iterable[tuple[Node, NodeVersion]]) -> None:
    """Withdraw the public archives of these (node, version) pairs and forget them. The conventional name is
    withdrawn too, even with nothing recorded: a release whose commit was lost must not outlive a ban either. Raises
    what the store raises (BlobStoreUnavailable), so the caller's transaction rolls back and can be retried."""
    # Flagged, banned and deleted versions were withdrawn when they became so; a pending one may hold a release
    # whose commit was lost.
    pairs = [
        (n, r) for n, r in versions_of if r.release_path or r.status in (VersionStatus.ACTIVE, VersionStatus.PENDING)
    ]
    paths = {archives.release_path(n.publisher_id, n.id, r.version) for n, r in pairs}
    paths |= {r.release_path for _, r in pairs if r.release_path}
    if len(paths) == 1:
        blobs.withdraw(paths.pop())
    elif paths:
        with ThreadPoolExecutor(max_workers=min(_PARALLEL, len(paths))) as pool:
            list(pool.map(blobs.withdraw, sorted(paths)))
    for _, row in pairs:
        row.release_path = None


def download_url(blobs: BlobStore, row: NodeVersion | VersionView) -> str:
    """The public URL of a version's archive, or "" when nothing of it is public."""
    if row.release_path and row.status in statuses.INSTALLABLE:
        return blobs.release_url(row.release_path)
    return ""
