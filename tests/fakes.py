"""In-memory stand-ins for the database and the outside services, for use-case tests that run in milliseconds.

`FakeUnitOfWork` keeps the rows of a `Store` in dictionaries and implements the repository Protocols of
shared/repositories/ports.py with the same meaning as the SQL ones. What it does not model is on purpose: no
rollback of rows a failed use case changed (only its events are dropped), no locks, no concurrency. Those
guarantees, and every query's SQL, are tested on both databases (tests/registry, tests/faults)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import IO, Any, BinaryIO, TypeVar

from sqlalchemy import inspect as sa_inspect

from shared.auth.identity import Identity
from shared.db.models import (
    AuditEntry,
    ComfyNode,
    Node,
    NodeVersion,
    PersonalAccessToken,
    Publisher,
    PublisherPermission,
    User,
)
from shared.db.types import new_uuid, utcnow
from shared.errors import ArchiveMismatch, Conflict
from shared.repositories.admin_versions import AdminVersions
from shared.repositories.ci import CiResults
from shared.repositories.comfy import HIDDEN_NODE, HIDDEN_VERSION
from shared.repositories.github import GitHubStars
from shared.repositories.ports import AuditFilter, ComfyNodeFilter, NodeFilter
from shared.repositories.releases import ReleaseNotes
from shared.repositories.search import Search
from shared.statuses import INSTALLABLE, NodeStatus
from shared.uow import audit_entry

T = TypeVar("T")


def with_defaults(row: T) -> T:
    """Fill the columns a database would default on insert (ids, timestamps, statuses, empty lists)."""
    for column in sa_inspect(type(row)).columns:
        key = column.key
        if getattr(row, key, None) is None and column.default is not None:
            arg = column.default.arg
            setattr(row, key, arg(None) if callable(arg) else arg)
    return row


@dataclass
class Event:
    type: str
    payload: dict[str, Any]


@dataclass
class Store:
    """The rows every fake unit of work of one test shares, and the events committed."""

    users: dict[str, User] = field(default_factory=dict)
    publishers: dict[str, Publisher] = field(default_factory=dict)
    tokens: dict[str, PersonalAccessToken] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    versions: dict[str, NodeVersion] = field(default_factory=dict)
    reviews: dict[tuple[str, str], int] = field(default_factory=dict)
    comfy_nodes: dict[str, ComfyNode] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    buckets: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    applied: set[tuple[str, str]] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)  # committed, in order

    def event_types(self) -> list[str]:
        return [e.type for e in self.events]


class _Repo:
    def __init__(self, store: Store) -> None:
        self.db = store


class FakeUsers(_Repo):
    def upsert(self, identity: Identity) -> User:
        user = self.db.users.get(identity.uid)
        if user is None:
            user = with_defaults(
                User(id=identity.uid, email=identity.email, name=identity.name, is_admin=False, is_approved=False)
            )
            self.db.users[user.id] = user
        else:
            user.email = identity.email if identity.email is not None else user.email
            user.name = identity.name if identity.name is not None else user.name
        return user

    def get(self, uid: str) -> User | None:
        return self.db.users.get(uid)


class FakePublishers(_Repo):
    def get(self, publisher_id: str) -> Publisher | None:
        return self.db.publishers.get(publisher_id)

    def by_normalized_id(self, normalized_id: str) -> Publisher | None:
        return next((p for p in self.db.publishers.values() if p.normalized_id == normalized_id), None)

    def add(self, publisher: Publisher) -> None:
        self.db.publishers[publisher.id] = with_defaults(publisher)

    def grant(self, publisher: Publisher, user: User, permission: str) -> None:
        publisher.permissions.append(
            with_defaults(PublisherPermission(user=user, user_id=user.id, permission=permission))
        )

    def permission(self, publisher_id: str, uid: str) -> str | None:
        publisher = self.db.publishers.get(publisher_id)
        found = [p.permission for p in (publisher.permissions if publisher else []) if p.user.id == uid]
        return found[0] if found else None

    def count_owned_by(self, uid: str) -> int:
        return sum(self.permission(p, uid) == "owner" for p in self.db.publishers)

    def list_all(self) -> Sequence[Publisher]:
        return [self.db.publishers[k] for k in sorted(self.db.publishers)]

    def list_for_user(self, uid: str) -> Sequence[Publisher]:
        return [p for p in self.list_all() if self.permission(p.id, uid) is not None]

    def delete(self, publisher: Publisher) -> None:
        self.db.publishers.pop(publisher.id, None)
        # The database deletes its tokens with it (ON DELETE CASCADE).
        for token_id in [t.id for t in self.db.tokens.values() if t.publisher_id == publisher.id]:
            del self.db.tokens[token_id]


class FakeTokens(_Repo):
    def add(self, token: PersonalAccessToken) -> None:
        self.db.tokens[with_defaults(token).id] = token

    def get(self, token_id: str) -> PersonalAccessToken | None:
        return self.db.tokens.get(token_id)

    def by_digest(self, token_digest: str) -> PersonalAccessToken | None:
        return next((t for t in self.db.tokens.values() if t.token_digest == token_digest), None)

    def list_for_publisher(self, publisher_id: str) -> Sequence[PersonalAccessToken]:
        rows = [t for t in self.db.tokens.values() if t.publisher_id == publisher_id]
        return sorted(rows, key=lambda t: (-t.created_at.timestamp(), t.id))

    def delete(self, token: PersonalAccessToken) -> None:
        self.db.tokens.pop(token.id, None)


def _has_any(values: list[str], wanted: list[str]) -> bool:
    return not values or any(v in values for v in wanted)


class FakeNodes(_Repo):
    def get(self, node_id: str) -> Node | None:
        return self.db.nodes.get(node_id)

    def get_many(self, node_ids: Sequence[str]) -> dict[str, Node]:
        return {i: self.db.nodes[i] for i in node_ids if i in self.db.nodes}

    def by_normalized_id(self, normalized_id: str) -> Node | None:
        return next((n for n in self.db.nodes.values() if n.normalized_id == normalized_id), None)

    def add(self, node: Node) -> None:
        with_defaults(node)
        node.publisher = self.db.publishers[node.publisher_id]
        self.db.nodes[node.id] = node

    def locked(self, node_id: str) -> Node | None:
        self.touch(node_id)
        return self.db.nodes.get(node_id)

    def add_rating(self, node: Node, star_delta: int, review_delta: int) -> None:
        node.total_star += star_delta
        node.total_review += review_delta

    def ids_of_publisher(self, publisher_id: str) -> list[str]:
        return sorted(n.id for n in self.db.nodes.values() if n.publisher_id == publisher_id)

    def count_for_publisher(self, publisher_id: str) -> int:
        return len(self.ids_of_publisher(publisher_id))

    def _matches(self, n: Node, f: NodeFilter) -> bool:
        if n.status == "deleted" or (n.status == "banned" and not f.include_banned):
            return False
        if (f.publisher_id and n.publisher_id != f.publisher_id) or (f.node_ids and n.id not in f.node_ids):
            return False
        if f.changed_since is not None and not (
            n.changed_at > f.changed_since
            or n.created_at > f.changed_since
            or any(v.node_id == n.id and v.updated_at > f.changed_since for v in self.db.versions.values())
        ):
            return False
        key = f.comfyui_version_key
        if key is not None and not (
            (n.comfyui_low_key is None or n.comfyui_low_key <= key)
            and (n.comfyui_high_key is None or n.comfyui_high_key > key)
        ):
            return False
        return all(_has_any(n.supported_os, w) for w in f.supported_os) and all(
            _has_any(n.supported_accelerators, w) for w in f.supported_accelerators
        )

    def page(self, f: NodeFilter, page: int, limit: int) -> tuple[Sequence[Node], int]:
        rows = sorted((n for n in self.db.nodes.values() if self._matches(n, f)), key=lambda n: n.id)
        for name, descending in reversed(f.sort):
            rows.sort(key=lambda n, name=name: _sort_value(n, name), reverse=descending)  # type: ignore[misc]
        return rows[(page - 1) * limit : page * limit], len(rows)

    def listing(self, f: NodeFilter, page: int, limit: int) -> tuple[Sequence[Node], dict[str, NodeVersion], int]:
        rows, total = self.page(f, page, limit)
        return rows, FakeVersions(self.db).latest_for_nodes([n.id for n in rows]), total

    def records(self, node_ids: Sequence[str]) -> tuple[dict[str, Node], dict[str, NodeVersion]]:
        rows = self.get_many(node_ids)
        return rows, FakeVersions(self.db).latest_for_nodes(list(rows))

    def count_downloads(self, node_id: str, count: int) -> None:
        self.db.nodes[node_id].total_install += count

    def touch(self, node_id: str) -> None:
        if node_id in self.db.nodes:
            self.db.nodes[node_id].changed_at = utcnow()


def _sort_value(n: Node, name: str) -> Any:
    columns = {"downloads": "total_install", "createdAt": "created_at", "updated_at": "changed_at"}
    if name == "rating":
        return n.total_star / n.total_review if n.total_review else 0.0
    return getattr(n, columns.get(name, name))


class FakeVersions(_Repo):
    def get(self, version_id: str, *, lock: bool = False) -> NodeVersion | None:
        return self.db.versions.get(version_id)

    def add(self, version: NodeVersion) -> None:
        self.db.versions[with_defaults(version).id] = version

    def by_storage_path(self, path: str, *, lock: bool = False) -> NodeVersion | None:
        return next((v for v in self.db.versions.values() if v.storage_path == path), None)

    def to_scan(
        self, *, created_before: datetime | None, statuses: Sequence[str], after_id: str, limit: int
    ) -> Sequence[NodeVersion]:
        rows = [
            v
            for v in self.db.versions.values()
            if v.status in statuses and v.id > after_id and (created_before is None or v.created_at < created_before)
        ]
        return sorted(rows, key=lambda v: v.id)[:limit]

    def timed_out(self, *, below: int, statuses: Sequence[str], after_id: str, limit: int) -> Sequence[NodeVersion]:
        rows = [
            v
            for v in self.db.versions.values()
            if v.status in statuses and 0 < (v.scan_timeouts or 0) < below and v.id > after_id
        ]
        return sorted(rows, key=lambda v: v.id)[:limit]

    def judged_before(
        self, *, scanner_version: str, statuses: Sequence[str], after_id: str, limit: int
    ) -> Sequence[NodeVersion]:
        rows = [
            v
            for v in self.db.versions.values()
            if v.status in statuses
            and v.scanned_at is not None
            and not v.scan_timeouts
            and v.scanner_version != scanner_version
            and v.id > after_id
        ]
        return sorted(rows, key=lambda v: v.id)[:limit]

    def find(self, node_id: str, version: str, *, lock: bool = False) -> NodeVersion | None:
        return next((v for v in self.db.versions.values() if (v.node_id, v.version) == (node_id, version)), None)

    def for_node(self, node_id: str, statuses: Sequence[str] = ()) -> Sequence[NodeVersion]:
        rows = [v for v in self.db.versions.values() if v.node_id == node_id and (not statuses or v.status in statuses)]
        return sorted(rows, key=lambda v: v.sort_key, reverse=True)

    def find_many(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], NodeVersion]:
        wanted = set(pairs)
        return {(v.node_id, v.version): v for v in self.db.versions.values() if (v.node_id, v.version) in wanted}

    def latest(self, node_id: str, statuses: Sequence[str] = INSTALLABLE) -> NodeVersion | None:
        rows = [v for v in self.for_node(node_id, statuses) if not v.deprecated]
        return rows[0] if rows else None

    def latest_for_nodes(self, node_ids: Sequence[str]) -> dict[str, NodeVersion]:
        return {i: v for i in node_ids if (v := self.latest(i)) is not None}

    def page(
        self, statuses: Sequence[str], node_id: str | None, page: int, size: int
    ) -> tuple[Sequence[NodeVersion], int]:
        rows = [
            v
            for v in self.db.versions.values()
            if (not statuses or v.status in statuses) and (node_id is None or v.node_id == node_id)
        ]
        rows.sort(key=lambda v: v.id)
        rows.sort(key=lambda v: v.created_at, reverse=True)
        return rows[(page - 1) * size : page * size], len(rows)

    def unreleased(self, *, after_id: str, limit: int) -> list[str]:
        ids = []
        for v in self.db.versions.values():
            node = self.db.nodes[v.node_id]
            if (
                v.status in INSTALLABLE
                and v.release_path is None
                and v.id > after_id
                and node.status != "banned"
                and node.publisher.status != "banned"
            ):
                ids.append(v.id)
        return sorted(ids)[:limit]

    def of_nodes(self, node_ids: Sequence[str]) -> Sequence[NodeVersion]:
        return [v for v in self.db.versions.values() if v.node_id in node_ids]


class FakeReviews(_Repo):
    def put(self, node_id: str, user_id: str, star: int) -> int | None:
        previous = self.db.reviews.get((node_id, user_id))
        self.db.reviews[(node_id, user_id)] = star
        return previous


class FakeComfyNodes(_Repo):
    def _of_version(self, version_id: str) -> list[ComfyNode]:
        return sorted(
            (c for c in self.db.comfy_nodes.values() if c.node_version_id == version_id), key=lambda c: c.name
        )

    def delete_for_version(self, version_id: str) -> None:
        for c in self._of_version(version_id):
            del self.db.comfy_nodes[c.id]

    def add_all(self, nodes: Sequence[ComfyNode]) -> None:
        for c in nodes:
            self.db.comfy_nodes[with_defaults(c).id] = c

    def get(self, version_id: str, name: str) -> ComfyNode | None:
        return next((c for c in self._of_version(version_id) if c.name == name), None)

    def for_version(self, version_id: str, page: int, limit: int) -> tuple[Sequence[ComfyNode], int]:
        rows = self._of_version(version_id)
        return rows[(page - 1) * limit : page * limit], len(rows)

    def _visible(self) -> Iterator[tuple[ComfyNode, NodeVersion, Node]]:
        for c in self.db.comfy_nodes.values():
            version = self.db.versions[c.node_version_id]
            node = self.db.nodes[version.node_id]
            if version.status not in HIDDEN_VERSION and node.status not in HIDDEN_NODE:
                yield c, version, node

    def page(self, f: ComfyNodeFilter, page: int, size: int) -> tuple[Sequence[ComfyNode], int]:
        rows = [
            (c, v)
            for c, v, _ in self._visible()
            if all(
                wanted is None or value == wanted
                for value, wanted in ((v.node_id, f.node_id), (v.version, f.version), (c.name, f.name))
            )
        ]
        rows.sort(key=lambda cv: (cv[0].name, cv[0].id))
        rows.sort(key=lambda cv: cv[1].sort_key, reverse=True)
        rows.sort(key=lambda cv: cv[1].node_id)
        found = [c for c, _ in rows]
        return found[(page - 1) * size : page * size], len(found)

    def providing_node(self, name: str) -> Node | None:
        nodes = [n for c, _, n in self._visible() if c.name == name and n.status == NodeStatus.ACTIVE]
        return min(nodes, key=lambda n: (-n.total_install, n.id), default=None)

    def count_for_version(self, version_id: str) -> int:
        return len(self._of_version(version_id))

    def _live_versions(self) -> list[NodeVersion]:
        return [
            v
            for v in self.db.versions.values()
            if v.status not in HIDDEN_VERSION and self.db.nodes[v.node_id].status not in HIDDEN_NODE
        ]

    def awaiting_scan(self, created_before: datetime, limit: int) -> Sequence[NodeVersion]:
        rows = [v for v in self._live_versions() if v.status == "pending" and v.created_at < created_before]
        return sorted(rows, key=lambda v: (v.created_at, v.id))[:limit]

    def awaiting_extraction(self, limit: int) -> Sequence[NodeVersion]:
        rows = [v for v in self._live_versions() if v.comfy_node_extract_status == "pending"]
        return sorted(rows, key=lambda v: (v.created_at, v.id))[:limit]


class FakeAuditLog(_Repo):
    def _newest_first(self, rows: list[AuditEntry]) -> list[AuditEntry]:
        return list(reversed(rows))  # appended in time order

    def for_target(self, target_type: str, target_id: str, actions: Collection[str]) -> Sequence[AuditEntry]:
        rows = [
            e for e in self.db.audit if (e.target_type, e.target_id) == (target_type, target_id) and e.action in actions
        ]
        return self._newest_first(rows)

    def targets_acted_on(self, target_type: str, target_ids: Collection[str], action: str, since: datetime) -> set[str]:
        return {
            e.target_id
            for e in self.db.audit
            if e.target_type == target_type
            and e.target_id in target_ids
            and e.action == action
            and e.created_at > since
        }

    def page(self, f: AuditFilter, page: int, limit: int) -> tuple[Sequence[AuditEntry], int]:
        rows = [
            e
            for e in self.db.audit
            if all(
                wanted is None or value == wanted
                for value, wanted in (
                    (e.action, f.action),
                    (e.target_type, f.target_type),
                    (e.target_id, f.target_id),
                    (e.actor_id, f.actor_id),
                )
            )
        ]
        rows = self._newest_first(rows)
        return rows[(page - 1) * limit : page * limit], len(rows)


class FakeBans(_Repo):
    def members(self, publisher_id: str) -> Sequence[User]:
        publisher = self.db.publishers[publisher_id]
        return sorted((p.user for p in publisher.permissions), key=lambda u: u.id)

    def in_banned_publisher(self, user_ids: Collection[str], *, excluding: str | None = None) -> set[str]:
        return {
            perm.user.id
            for p in self.db.publishers.values()
            if p.status == "banned" and p.id != excluding
            for perm in p.permissions
            if perm.user.id in user_ids
        }

    def set_user_status(self, user_ids: Collection[str], status: str, *, only_if: str | None = None) -> list[str]:
        changed = []
        for uid in sorted(user_ids):
            user = self.db.users.get(uid)
            if user is not None and user.status != status and (only_if is None or user.status == only_if):
                user.status = status
                changed.append(uid)
        return changed

    def node_ids(self, publisher_id: str, statuses: Collection[str], among: Collection[str] | None = None) -> list[str]:
        return sorted(
            n.id
            for n in self.db.nodes.values()
            if n.publisher_id == publisher_id and n.status in statuses and (among is None or n.id in among)
        )

    def set_node_status(self, node_ids: Collection[str], status: str) -> None:
        for node_id in node_ids:
            self.db.nodes[node_id].status = status
            self.db.nodes[node_id].changed_at = utcnow()


class FakeRateLimits(_Repo):
    def take(self, key: str, *, burst: int, interval: float, now: datetime, attempts: int = 8) -> float:
        stored, at = self.db.buckets.get(key, (float(burst), now))
        tokens = min(float(burst), stored + max(0.0, (now - at).total_seconds()) / interval)
        if tokens < 1.0:
            return (1.0 - tokens) * interval
        self.db.buckets[key] = (tokens - 1.0, max(now, at))
        return 0.0


class FakeAppliedEvents(_Repo):
    def first_time(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.db.applied:
            return False
        self.db.applied.add((consumer, event_id))
        return True


class _OnlyOnTheDatabase:
    def __init__(self, what: str) -> None:
        self.what = what

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"{self.what} live only in the database: test this use case there")


class FakeUnitOfWork:
    """A unit of work over a Store. Events reach `store.events` only on commit; leaving the block without a commit
    drops them (the rows it changed stay changed: see the module's docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.users = FakeUsers(store)
        self.publishers = FakePublishers(store)
        self.tokens = FakeTokens(store)
        self.nodes = FakeNodes(store)
        self.versions = FakeVersions(store)
        self.reviews = FakeReviews(store)
        self.comfy_nodes = FakeComfyNodes(store)
        self.audit_log = FakeAuditLog(store)
        self.bans = FakeBans(store)
        self.rate_limits = FakeRateLimits(store)
        self.applied_events = FakeAppliedEvents(store)
        self.ci: CiResults = _OnlyOnTheDatabase("CI results")  # type: ignore[assignment]
        self.search: Search = _OnlyOnTheDatabase("search documents")  # type: ignore[assignment]
        self.github_stars: GitHubStars = _OnlyOnTheDatabase("GitHub stars")  # type: ignore[assignment]
        self.release_notes: ReleaseNotes = _OnlyOnTheDatabase("release notes")  # type: ignore[assignment]
        self.admin_versions: AdminVersions = _OnlyOnTheDatabase("the admin's version list")  # type: ignore[assignment]
        self._pending: list[Event] = []
        self._audit: list[AuditEntry] = []

    def __enter__(self) -> FakeUnitOfWork:
        self._pending, self._audit = [], []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending, self._audit = [], []

    def emit(self, type_: str, **payload: Any) -> None:
        self._pending.append(Event(str(type_), payload))

    def audit(
        self, actor_id: str | None, action: str, target_type: str, target_id: str, reason: str = "", **details: Any
    ) -> None:
        entry = audit_entry(actor_id, action, target_type, target_id, reason, details)
        self._audit.append(with_defaults(entry))

    def flush(self) -> None:
        keys = [(v.node_id, v.version) for v in self.store.versions.values()]
        if len(keys) != len(set(keys)):
            raise Conflict("The change conflicts with existing data.", code="conflict")

    def commit(self) -> None:
        self.flush()
        self.store.events.extend(self._pending)
        self.store.audit.extend(self._audit)
        self._pending, self._audit = [], []

    def readers_changed(self) -> None:
        pass


class FakeBlobs:
    """The BlobStore port in memory: quarantined uploads, releases (create-only, checked by SHA-256), withdrawals."""

    def __init__(self) -> None:
        self.uploads: dict[str, bytes] = {}
        self.released: dict[str, bytes] = {}
        self.withdrawn: list[str] = []
        self.data: dict[str, bytes] = {}

    def signed_upload_url(self, path: str, content_type: str, max_bytes: int) -> str:
        return f"https://uploads.example/{path}?max={max_bytes}&sig={new_uuid()}"

    def signed_download_url(self, path: str) -> str:
        return f"https://uploads.example/{path}?sig=get"

    def exists(self, path: str) -> bool:
        return path in self.uploads

    def open_read(self, path: str) -> BinaryIO:
        if path not in self.uploads:
            raise FileNotFoundError(path)
        return io.BytesIO(self.uploads[path])

    def release(self, path: str, data: IO[bytes], sha256: str) -> None:
        content = data.read()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise ArchiveMismatch(f"the bytes to release at {path} are not the judged ones")
        if path in self.released and self.released[path] != content:
            raise ArchiveMismatch(f"another archive is already released at {path}")
        self.released[path] = content

    def withdraw(self, path: str) -> None:
        self.withdrawn.append(path)
        self.released.pop(path, None)

    def release_url(self, path: str) -> str:
        return f"https://releases.example/{path}"

    def is_released(self, path: str) -> bool:
        return path in self.released

    def write_data(self, path: str, data: bytes) -> None:
        self.data[path] = data

    def read_data(self, path: str) -> bytes | None:
        return self.data.get(path)


@dataclass
class FakeTally:
    """The DownloadTally port: counts kept in memory."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, node_id: str) -> None:
        self.counts[node_id] = self.counts.get(node_id, 0) + 1


def person(uid: str, *, admin: bool = False) -> Identity:
    return Identity(uid=uid, email=f"{uid}@example.com", name=uid.title(), admin_claim=admin, claims={})
