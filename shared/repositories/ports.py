"""What the use cases ask of the database, as Protocols: the SQL repositories (shared/repositories/*.py) implement
them, and so do the in-memory fakes the use-case tests run on (tests/fakes). Only the methods use cases call are
here; what only adapters use (the search documents, the CI tables) stays with its SQL class.

The filters the listings take live here too, free of SQL."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.auth.identity import Identity
from shared.db.models import AuditEntry, ComfyNode, Node, NodeVersion, PersonalAccessToken, Publisher, User
from shared.repositories.views import NodeRecord, VersionRecord
from shared.statuses import INSTALLABLE

# The fields `/nodes` may sort by (wire names; shared/repositories/catalog.py maps each to a column).
SORTABLE = frozenset(
    {"id", "name", "downloads", "total_install", "created_at", "createdAt", "updated_at", "publisher_id", "rating"}
)


@dataclass
class NodeFilter:
    include_banned: bool = False
    changed_since: datetime | None = None
    node_ids: list[str] = field(default_factory=list)
    publisher_id: str | None = None
    # Each inner list is "any of these"; every list must match. Empty node lists mean "any".
    supported_os: list[list[str]] = field(default_factory=list)
    supported_accelerators: list[list[str]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (wire name, descending)
    comfyui_version_key: str | None = None  # sort key of the client's ComfyUI version


@dataclass(frozen=True)
class ComfyNodeFilter:
    node_id: str | None = None
    version: str | None = None  # canonical
    name: str | None = None


@dataclass(frozen=True)
class AuditFilter:
    """Exact matches; None means any."""

    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    actor_id: str | None = None


class UsersRepository(Protocol):
    def upsert(self, identity: Identity) -> User:
        """Keep the row in step with the token's claims, as every login does."""
        ...

    def get(self, uid: str) -> User | None: ...


class PublishersRepository(Protocol):
    def get(self, publisher_id: str) -> Publisher | None: ...

    def by_normalized_id(self, normalized_id: str) -> Publisher | None: ...

    def add(self, publisher: Publisher) -> None: ...

    def grant(self, publisher: Publisher, user: User, permission: str) -> None: ...

    def permission(self, publisher_id: str, uid: str) -> str | None: ...

    def count_owned_by(self, uid: str) -> int: ...

    def list_all(self) -> Sequence[Publisher]: ...

    def list_for_user(self, uid: str) -> Sequence[Publisher]: ...

    def delete(self, publisher: Publisher) -> None: ...


class TokensRepository(Protocol):
    def add(self, token: PersonalAccessToken) -> None: ...

    def get(self, token_id: str) -> PersonalAccessToken | None: ...

    def by_digest(self, token_digest: str) -> PersonalAccessToken | None: ...

    def list_for_publisher(self, publisher_id: str) -> Sequence[PersonalAccessToken]: ...

    def delete(self, token: PersonalAccessToken) -> None: ...


class NodesRepository(Protocol):
    def get(self, node_id: str) -> Node | None: ...

    def get_many(self, node_ids: Sequence[str]) -> dict[str, Node]: ...

    def by_normalized_id(self, normalized_id: str) -> Node | None: ...

    def add(self, node: Node) -> None: ...

    def locked(self, node_id: str) -> Node | None:
        """The node, freshly read under a write lock, with its change time bumped.

        Writing first is what takes the lock on SQLite too (its reads run outside a transaction), so a
        read-modify-write of the node's JSON columns cannot lose a concurrent one."""
        ...

    def add_rating(self, node: Node, star_delta: int, review_delta: int) -> None:
        """Shift the rating counters in SQL (concurrent reviews all count), then read back what is stored."""
        ...

    def count_for_publisher(self, publisher_id: str) -> int: ...

    def page(self, f: NodeFilter, page: int, limit: int) -> tuple[Sequence[Node], int]: ...

    def listing(
        self, f: NodeFilter, page: int, limit: int
    ) -> tuple[Sequence[NodeRecord], Mapping[str, VersionRecord], int]:
        """One page of the nodes `f` selects, each one's latest installable version, and the number of matches."""
        ...

    def records(self, node_ids: Sequence[str]) -> tuple[Mapping[str, NodeRecord], Mapping[str, VersionRecord]]:
        """These nodes (any status), and each one's latest installable version."""
        ...

    def count_downloads(self, node_id: str, count: int) -> None: ...

    def touch(self, node_id: str) -> None: ...

    def ids_of_publisher(self, publisher_id: str) -> list[str]: ...


class VersionsRepository(Protocol):
    def get(self, version_id: str, *, lock: bool = False) -> NodeVersion | None: ...

    def add(self, version: NodeVersion) -> None: ...

    def by_storage_path(self, path: str, *, lock: bool = False) -> NodeVersion | None: ...

    def to_scan(
        self, *, created_before: datetime | None, statuses: Sequence[str], after_id: str, limit: int
    ) -> Sequence[NodeVersion]:
        """Versions in the given statuses (and older than a time, if given), in id order after a cursor."""
        ...

    def timed_out(self, *, below: int, statuses: Sequence[str], after_id: str, limit: int) -> Sequence[NodeVersion]:
        """Versions in the given statuses whose last scans ran out of time, fewer than `below` times in a row, in id
        order after a cursor."""
        ...

    def judged_before(
        self, *, scanner_version: str, statuses: Sequence[str], after_id: str, limit: int
    ) -> Sequence[NodeVersion]:
        """Versions in the given statuses that a scanner other than `scanner_version` judged (or one from before the
        version was recorded) and whose last scan did not run out of time, in id order after a cursor."""
        ...

    def find(self, node_id: str, version: str, *, lock: bool = False) -> NodeVersion | None: ...

    def for_node(self, node_id: str, statuses: Sequence[str] = ()) -> Sequence[NodeVersion]: ...

    def find_many(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], NodeVersion]:
        """Versions by (node id, version string), in one query."""
        ...

    def latest(self, node_id: str, statuses: Sequence[str] = INSTALLABLE) -> NodeVersion | None:
        """The newest version in one of `statuses`; deprecated versions are never the latest."""
        ...

    def latest_for_nodes(self, node_ids: Sequence[str]) -> dict[str, NodeVersion]:
        """The newest installable, not deprecated version of each node, in one query."""
        ...

    def page(
        self, statuses: Sequence[str], node_id: str | None, page: int, size: int
    ) -> tuple[Sequence[NodeVersion], int]: ...

    def unreleased(self, *, after_id: str, limit: int) -> list[str]:
        """Ids of installable versions with no public archive whose node and publisher are not banned, in id order."""
        ...

    def of_nodes(self, node_ids: Sequence[str]) -> Sequence[NodeVersion]:
        """Every version of these nodes, whatever its status."""
        ...


class ReviewsRepository(Protocol):
    def put(self, node_id: str, user_id: str, star: int) -> int | None:
        """Record the user's star for the node; returns the star it replaced, or None for a first review.

        Insert-or-ignore on (node_id, user_id) means two racing first reviews of one user leave one row;
        the loser then reads that row under a lock, so its change is measured against what is stored."""
        ...


class ComfyNodesRepository(Protocol):
    def delete_for_version(self, version_id: str) -> None: ...

    def add_all(self, rows: Sequence[ComfyNode]) -> None: ...

    def get(self, version_id: str, name: str) -> ComfyNode | None: ...

    def for_version(self, version_id: str, page: int, limit: int) -> tuple[Sequence[ComfyNode], int]: ...

    def page(self, f: ComfyNodeFilter, page: int, size: int) -> tuple[Sequence[ComfyNode], int]:
        """Node classes of visible versions of visible nodes, by node, newest version first, then name."""
        ...

    def providing_node(self, name: str) -> Node | None:
        """The most installed active node with a visible version that provides this node class."""
        ...

    def count_for_version(self, version_id: str) -> int: ...

    def awaiting_scan(self, created_before: datetime, limit: int) -> Sequence[NodeVersion]:
        """Versions still `pending` review that were published before the given time, oldest first."""
        ...

    def awaiting_extraction(self, limit: int) -> Sequence[NodeVersion]:
        """Versions whose node classes were never extracted, oldest first (versions of live nodes only)."""
        ...


class AuditLogRepository(Protocol):
    def for_target(self, target_type: str, target_id: str, actions: Collection[str]) -> Sequence[AuditEntry]:
        """The target's entries with one of these actions, newest first."""
        ...

    def targets_acted_on(self, target_type: str, target_ids: Collection[str], action: str, since: datetime) -> set[str]:
        """Those of the targets that had this action done to them after `since`."""
        ...

    def page(self, f: AuditFilter, page: int, limit: int) -> tuple[Sequence[AuditEntry], int]: ...


class BansRepository(Protocol):
    def members(self, publisher_id: str) -> Sequence[User]:
        """Every user holding any permission on the publisher."""
        ...

    def in_banned_publisher(self, user_ids: Collection[str], *, excluding: str | None = None) -> set[str]:
        """Those of the users who hold a permission on a banned publisher (other than `excluding`)."""
        ...

    def set_user_status(self, user_ids: Collection[str], status: str, *, only_if: str | None = None) -> list[str]:
        """Set the status of these users (those currently `only_if`, when given); the ids changed, sorted."""
        ...

    def node_ids(self, publisher_id: str, statuses: Collection[str], among: Collection[str] | None = None) -> list[str]:
        """The publisher's nodes in one of these statuses (limited to `among` when given), sorted."""
        ...

    def set_node_status(self, node_ids: Collection[str], status: str) -> None:
        """One UPDATE; `changed_at` moves so that incremental sync and the indexer see it."""
        ...


class RateLimitsRepository(Protocol):
    def take(self, key: str, *, burst: int, interval: float, now: datetime, attempts: int = 8) -> float:
        """Spend one token of `key`'s bucket. Returns 0 when allowed, else the seconds until a token is back.

        The bucket holds up to `burst` tokens and gains one every `interval` seconds. A concurrent spender makes
        the guarded UPDATE match nothing, and we read again (bounded)."""
        ...


class AppliedEventsRepository(Protocol):
    def first_time(self, consumer: str, event_id: str) -> bool:
        """Record the event; False if this consumer has applied it before (the caller then does nothing)."""
        ...


@dataclass(frozen=True)
class AdminVersionFilter:
    """GET /admin/nodeversions: every field narrows; empty ones do not."""

    node_id: str | None = None
    statuses: tuple[str, ...] = ()  # short names
    status_reason: str = ""  # a piece of the reason, any case
    include_deleted: bool = False
