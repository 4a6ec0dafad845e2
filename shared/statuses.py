"""The catalogue of statuses, as the database stores them (short names; `shared.wire` spells them for the wire), and
the status rules the registry and the scanner both apply. StrEnum members compare equal to the stored strings."""

from __future__ import annotations

from enum import StrEnum


class VersionStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    FLAGGED = "flagged"
    BANNED = "banned"
    DELETED = "deleted"


class NodeStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"
    BANNED = "banned"


class PublisherStatus(StrEnum):
    ACTIVE = "active"
    BANNED = "banned"


class UserStatus(StrEnum):
    ACTIVE = "active"
    BANNED = "banned"


class Permission(StrEnum):
    """A user's role in a publisher. Every member is an owner today (the old service knows no other role)."""

    OWNER = "owner"


class ComfyNodePolicy(StrEnum):
    ACTIVE = "active"
    BANNED = "banned"
    LOCAL_ONLY = "local_only"


# What `/install` may hand out: only what the scanner passed (or an admin activated).
INSTALLABLE = (VersionStatus.ACTIVE,)
SCAN_PENDING_REASON = "Waiting for the automated checks"
SCAN_PASSED_REASON = "Passed automated checks"
MISSING_ARCHIVE_REASON = "Node zip file doesn't exist"


def status_after_scan(flagged: bool) -> VersionStatus:
    """Clean archives become active; suspicious or unreadable ones flagged (the wire enum has no other state)."""
    return VersionStatus.FLAGGED if flagged else VersionStatus.ACTIVE
