"""`scanner-advisories-refresh`: download OSV's PyPI data, keep the malicious and compromised releases (`osv.py`) and
store the snapshot where the scanner reads it (`BlobStore.write_data`); and the scanner's side, which installs the
stored snapshot for its rules, falling back to the one shipped in `functions/scanner/data/`.

The download goes through the `AdvisoryFeed` port: `HttpxAdvisoryFeed` in the cloud, a loopback server or a fake in
tests (never the internet)."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from typing import IO, Protocol

from functions.scanner import osv
from functions.scanner.rules import advisories
from shared.db.types import utcnow
from shared.ports import BlobStore

log = logging.getLogger(__name__)
OSV_PYPI_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
# Under the releases location, where no publisher's release path can be (publisher ids never start with `_`).
SNAPSHOT_PATH = "_scanner/osv-pypi-malicious.json"
_CHUNK = 1024 * 1024


class FeedTooLarge(Exception):
    pass


class AdvisoryFeed(Protocol):
    def download(self, url: str, sink: IO[bytes], max_bytes: int) -> int:
        """Write the document at `url` to `sink` (FeedTooLarge past `max_bytes`); return its size. Failures to
        reach it raise, so that the scheduler's next run tries again and the stored snapshot stays as it was."""
        ...


class HttpxAdvisoryFeed:
    def __init__(self, timeout_seconds: float = 120.0) -> None:
        self.timeout = timeout_seconds

    def download(self, url: str, sink: IO[bytes], max_bytes: int) -> int:
        import httpx

        size = 0
        with httpx.stream("GET", url, timeout=self.timeout, follow_redirects=True) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FeedTooLarge(f"{url} is larger than {max_bytes} bytes")
                sink.write(chunk)
        return size


def refresh(feed: AdvisoryFeed, blobs: BlobStore, *, url: str = OSV_PYPI_URL, max_bytes: int) -> dict[str, int]:
    """One run of the job: counts of records read, kept and skipped, and whether a snapshot was stored. A download
    that keeps nothing (a broken or truncated feed) leaves the stored snapshot as it is."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryFile() as spool:
        counts["bytes"] = feed.download(url, spool, max_bytes)
        spool.seek(0)
        data = osv.snapshot(
            osv.records_in_zip(spool, counts), generated=utcnow().isoformat(), source=url, counts=counts
        )
    if counts["kept"] == 0:
        log.error("advisories: %s gave no malicious record; the stored snapshot is kept", url)
        counts["stored"] = 0
        return counts
    advisories.AdvisoryIndex.from_json(data)  # what the scanner will parse
    blobs.write_data(SNAPSHOT_PATH, data)
    counts["stored"] = 1
    log.info("advisories: stored %d malicious or compromised records from %s", counts["kept"], url)
    return counts


_loaded_at: float | None = None
_load_lock = threading.Lock()


def load_stored(blobs: BlobStore, *, max_age_seconds: float = 600.0) -> advisories.AdvisoryIndex:
    """Install the stored snapshot for the rules (at most once per `max_age_seconds` per instance); the shipped one
    when none is stored or it cannot be read, so a scan never waits on, or fails with, the advisory data."""
    global _loaded_at
    with _load_lock:
        if _loaded_at is not None and time.monotonic() - _loaded_at < max_age_seconds:
            return advisories.current()
        _loaded_at = time.monotonic()
    try:
        data = blobs.read_data(SNAPSHOT_PATH)
        index = advisories.AdvisoryIndex.from_json(data, source=SNAPSHOT_PATH) if data else None
    except Exception:  # a store outage or a damaged object: the shipped snapshot still judges
        log.exception("advisories: the stored snapshot could not be read; using the shipped one")
        index = None
    advisories.use(index if index is not None and len(index) else None)
    return advisories.current()


def forget_loaded() -> None:
    """Make the next `load_stored` read the store again (tests; a refresh in the same process)."""
    global _loaded_at
    with _load_lock:
        _loaded_at = None
