"""The catalogue of event names every function emits and consumes through the outbox and `registry-events`, and
the rules about them that more than one consumer applies. Use the names from here, never a string literal."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    PUBLISHER_CREATED = "publisher.created"
    PUBLISHER_UPDATED = "publisher.updated"
    PUBLISHER_DELETED = "publisher.deleted"
    PUBLISHER_BANNED = "publisher.banned"
    PUBLISHER_UNBANNED = "publisher.unbanned"
    NODE_CREATED = "node.created"
    NODE_UPDATED = "node.updated"
    NODE_DELETED = "node.deleted"
    NODE_BANNED = "node.banned"
    NODE_UNBANNED = "node.unbanned"
    NODE_REVIEWED = "node.reviewed"
    NODE_TRANSLATIONS_UPDATED = "node.translations_updated"
    VERSION_PUBLISHED = "version.published"
    VERSION_UPDATED = "version.updated"
    VERSION_DELETED = "version.deleted"
    VERSION_SCANNED = "version.scanned"
    VERSION_STATUS_CHANGED = "version.status_changed"
    VERSION_RELEASED = "version.released"
    VERSION_WITHDRAWN = "version.withdrawn"
    VERSION_COMFY_NODES_EXTRACTED = "version.comfy_nodes_extracted"
    COMFY_NODE_UPDATED = "comfy_node.updated"
    CI_RESULT_UPLOADED = "ci.result_uploaded"
    # Work orders for one consumer, not facts about the catalog.
    VERSION_SCAN_REQUESTED = "version.scan_requested"
    VERSION_EXTRACT_REQUESTED = "version.extract_requested"
    INDEX_REINDEX_REQUESTED = "index.reindex_requested"


def is_request(event_type: str) -> bool:
    """A work order (`*_requested`) for the consumer it names; other consumers, the indexer among them, skip it."""
    return event_type.endswith("_requested")


# Facts that change nothing a public catalog read shows (CI results can arrive many times a minute).
_UNSEEN_BY_READERS = frozenset({EventType.CI_RESULT_UPLOADED})


def changes_what_readers_see(event_type: str) -> bool:
    """Whether committing this event must drop the read caches. Any event not known to be unseen, one added later
    included, is taken to change what readers see."""
    return event_type not in _UNSEEN_BY_READERS and not is_request(event_type)


class AuditAction(StrEnum):
    """What an admin or owner did, as the audit log records it (not an event: nothing consumes these)."""

    PUBLISHER_BAN = "publisher.ban"
    PUBLISHER_UNBAN = "publisher.unban"
    NODE_BAN = "node.ban"
    NODE_UNBAN = "node.unban"
    NODE_CREATE = "node.create"
    NODE_UPDATE = "node.update"
    NODE_CLAIM = "node.claim"  # a publisher took over an unclaimed node (claim-my-node)
    VERSION_STATUS_CHANGE = "version.status_change"
    TOKEN_CREATE = "token.create"  # noqa: S105 - an action's name, not a secret
    TOKEN_DELETE = "token.delete"  # noqa: S105
    COMFY_NODE_UPDATE = "comfy_node.update"
