"""One unit of work per use case: a session, its repositories, and the events to send after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shared import outbox
from shared.db.models import AuditEntry
from shared.db.transient import end_unit_of_work
from shared.db.types import new_uuid
from shared.errors import Conflict
from shared.events import changes_what_readers_see
from shared.page_memo import PageMemo
from shared.ports import EventPublisher
from shared.repositories import epoch
from shared.repositories.accounts import Publishers, Tokens, Users
from shared.repositories.admin_versions import AdminVersions
from shared.repositories.catalog import Nodes, Versions
from shared.repositories.ci import CiResults
from shared.repositories.comfy import ComfyNodes
from shared.repositories.community import Reviews
from shared.repositories.events import AppliedEvents
from shared.repositories.github import GitHubStars
from shared.repositories.limits import RateLimits
from shared.repositories.moderation import AuditLog, Bans
from shared.repositories.ports import (
    AppliedEventsRepository,
    AuditLogRepository,
    BansRepository,
    ComfyNodesRepository,
    NodesRepository,
    PublishersRepository,
    RateLimitsRepository,
    ReviewsRepository,
    TokensRepository,
    UsersRepository,
    VersionsRepository,
)
from shared.repositories.releases import ReleaseNotes
from shared.repositories.search import Search

log = logging.getLogger(__name__)


class SqlUnitOfWork:
    session: Session
    users: Users
    publishers: Publishers
    tokens: Tokens
    nodes: Nodes
    versions: Versions
    reviews: Reviews
    comfy_nodes: ComfyNodes
    audit_log: AuditLog
    bans: Bans
    ci: CiResults
    rate_limits: RateLimits
    applied_events: AppliedEvents
    search: Search
    github_stars: GitHubStars
    release_notes: ReleaseNotes
    admin_versions: AdminVersions

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: EventPublisher,
        topic: str,
        on_change: Callable[[], None] | None = None,
        memo: PageMemo | None = None,
    ) -> None:
        self._sessions = sessions
        self._memo = memo  # the instance's listing counts and page starts, per catalog tag
        self._publisher = publisher
        self._topic = topic
        self._on_change = on_change  # told after a commit that changed what readers see (the read cache drops all)
        self._readers_changed = False
        self._pending_events: list[str] = []
        self._pending_types: list[str] = []

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        self.users = Users(self.session)
        self.publishers = Publishers(self.session)
        self.tokens = Tokens(self.session)
        self.nodes = Nodes(self.session, self._memo)
        self.versions = Versions(self.session)
        self.reviews = Reviews(self.session)
        self.comfy_nodes = ComfyNodes(self.session)
        self.audit_log = AuditLog(self.session)
        self.bans = Bans(self.session)
        self.ci = CiResults(self.session)
        self.rate_limits = RateLimits(self.session)
        self.applied_events = AppliedEvents(self.session)
        self.search = Search(self.session)
        self.github_stars = GitHubStars(self.session)
        self.release_notes = ReleaseNotes(self.session)
        self.admin_versions = AdminVersions(self.session)
        self._pending_events = []
        self._pending_types = []
        self._readers_changed = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        end_unit_of_work(self.session, exc)

    def readers_changed(self) -> None:
        """What readers see changed without an event of this transaction's own (an external search index the
        indexer has just updated): the commit bumps the catalog epoch all the same."""
        self._readers_changed = True

    def emit(self, type_: str, **payload: Any) -> None:
        """Record an event in this transaction; it is sent only if the transaction commits."""
        event = outbox.new_event(self._topic, type_, payload)
        event.id = new_uuid()
        self.session.add(event)
        self._pending_events.append(event.id)
        self._pending_types.append(type_)

    def audit(
        self, actor_id: str | None, action: str, target_type: str, target_id: str, reason: str = "", **details: Any
    ) -> None:
        self.session.add(audit_entry(actor_id, action, target_type, target_id, reason, details))

    def flush(self) -> None:
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise Conflict("The change conflicts with existing data.", code="conflict") from exc

    def commit(self) -> None:
        try:
            changed = self._readers_changed or any(changes_what_readers_see(t) for t in self._pending_types)
            if changed:
                # The events describe every change a reader can see: instances drop cached reads when this moves.
                epoch.bump(self.session)
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise Conflict("The change conflicts with existing data.", code="conflict") from exc
        events, self._pending_events, self._pending_types, self._readers_changed = self._pending_events, [], [], False
        if changed and self._on_change is not None:
            self._on_change()
        try:
            outbox.relay(self._sessions, self._publisher, events)
        except Exception:
            log.exception("outbox relay failed; the sweep will retry")


def audit_entry(
    actor_id: str | None, action: str, target_type: str, target_id: str, reason: str, details: dict[str, Any]
) -> AuditEntry:
    return AuditEntry(
        actor_id=actor_id, action=action, target_type=target_type, target_id=target_id, reason=reason, details=details
    )


class UnitOfWork(Protocol):
    """One use case's transaction: the repositories, and the events and audit entries written with the change,
    committed together or not at all (leaving the `with` block without `commit()` rolls back). SqlUnitOfWork is the
    database's; the use-case tests run on tests/fakes.FakeUnitOfWork."""

    @property
    def users(self) -> UsersRepository: ...
    @property
    def publishers(self) -> PublishersRepository: ...
    @property
    def tokens(self) -> TokensRepository: ...
    @property
    def nodes(self) -> NodesRepository: ...
    @property
    def versions(self) -> VersionsRepository: ...
    @property
    def reviews(self) -> ReviewsRepository: ...
    @property
    def comfy_nodes(self) -> ComfyNodesRepository: ...
    @property
    def audit_log(self) -> AuditLogRepository: ...
    @property
    def bans(self) -> BansRepository: ...
    @property
    def rate_limits(self) -> RateLimitsRepository: ...
    @property
    def applied_events(self) -> AppliedEventsRepository: ...
    # Only the database has these: the CI tables and the search documents are tested there.
    @property
    def ci(self) -> CiResults: ...
    @property
    def search(self) -> Search: ...
    @property
    def github_stars(self) -> GitHubStars: ...
    @property
    def release_notes(self) -> ReleaseNotes: ...
    @property
    def admin_versions(self) -> AdminVersions: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def emit(self, type_: str, **payload: Any) -> None:
        """Record an event in this transaction; it is sent only if the transaction commits."""
        ...

    def audit(
        self, actor_id: str | None, action: str, target_type: str, target_id: str, reason: str = "", **details: Any
    ) -> None: ...

    def flush(self) -> None:
        """Write what is pending now (Conflict on a unique key taken), without committing."""
        ...

    def commit(self) -> None: ...

    def readers_changed(self) -> None:
        """What readers see changed without an event of this transaction's own."""
        ...
