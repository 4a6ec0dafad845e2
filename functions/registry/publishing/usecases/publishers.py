"""Publishers: create, read, update, delete, and what a caller may do on one."""

from __future__ import annotations

from collections.abc import Sequence

from functions.registry.common.access import (
    active_user,
    check_publisher_id,
    login,
    normalized_id,
    owned_publisher,
    publisher_or_404,
)
from functions.registry.publishing.usecases.commands import PublisherFields
from shared.auth.identity import Identity
from shared.db.models import Publisher, User
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import EventType
from shared.statuses import Permission
from shared.uow import UnitOfWork

_FIELDS = {
    "description": "description",
    "website": "website",
    "support": "support_email",
    "source_code_repo": "source_code_repo",
    "logo": "logo_url",
}


def _loaded(publisher: Publisher) -> Publisher:
    for permission in publisher.permissions:  # load members while the session is open
        _ = permission.user
    return publisher


def create(uow: UnitOfWork, identity: Identity, body: PublisherFields, max_per_user: int) -> Publisher:
    with uow:
        user = active_user(uow, identity)
        publisher_id = check_publisher_id(body.id or "")
        if not (body.name or "").strip():
            raise InvalidInput("Publisher name is required", code="invalid_name")
        existing = uow.publishers.get(publisher_id) or uow.publishers.by_normalized_id(normalized_id(publisher_id))
        if existing is not None:
            raise Conflict(
                f"Publisher ID {publisher_id!r} is taken or too close to the existing publisher {existing.id!r}",
                code="publisher_exists",
            )
        if uow.publishers.count_owned_by(user.id) >= max_per_user:
            raise Forbidden("User has reached the maximum number of publishers.", code="publisher_limit")
        publisher = Publisher(
            id=publisher_id, name=(body.name or "").strip(), normalized_id=normalized_id(publisher_id)
        )
        _apply(publisher, body)
        uow.publishers.add(publisher)
        uow.publishers.grant(publisher, user, Permission.OWNER)
        uow.flush()
        uow.emit(EventType.PUBLISHER_CREATED, publisher_id=publisher.id, by=user.id)
        uow.commit()
        return _loaded(publisher)


def _apply(publisher: Publisher, body: PublisherFields) -> None:
    for wire_name, column in _FIELDS.items():
        value = getattr(body, wire_name)
        if value is not None:
            setattr(publisher, column, value)


def check_available(uow: UnitOfWork, username: str) -> None:
    """A publisher id nobody has taken, nor one too close to it; InvalidInput otherwise (as the old service)."""
    if not username:
        raise InvalidInput("Username parameter is required", code="invalid_id")
    check_publisher_id(username)
    with uow:
        taken = uow.publishers.get(username) or uow.publishers.by_normalized_id(normalized_id(username))
    if taken is not None:
        raise InvalidInput("Publisher ID already exists.", code="publisher_exists")


def get(uow: UnitOfWork, publisher_id: str) -> Publisher:
    with uow:
        return _loaded(publisher_or_404(uow, publisher_id))


def list_all(uow: UnitOfWork, identity: Identity) -> Sequence[Publisher]:
    with uow:
        login(uow, identity)
        uow.commit()
        return [_loaded(p) for p in uow.publishers.list_all()]


def list_for_user(uow: UnitOfWork, identity: Identity) -> Sequence[Publisher]:
    with uow:
        user = login(uow, identity)
        uow.commit()
        return [_loaded(p) for p in uow.publishers.list_for_user(user.id)]


def update(uow: UnitOfWork, identity: Identity, publisher_id: str, body: PublisherFields) -> Publisher:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        if body.id is not None and body.id != publisher.id:
            raise InvalidInput("A publisher's id cannot be changed", code="immutable_id")
        if body.name is not None:
            if not body.name.strip():
                raise InvalidInput("Publisher name cannot be empty", code="invalid_name")
            publisher.name = body.name.strip()
        _apply(publisher, body)
        uow.emit(EventType.PUBLISHER_UPDATED, publisher_id=publisher.id, by=user.id)
        uow.commit()
        return _loaded(publisher)


def delete(uow: UnitOfWork, identity: Identity, publisher_id: str) -> None:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        if uow.nodes.count_for_publisher(publisher.id) > 0:
            raise Conflict("The publisher still has nodes; delete them first.", code="publisher_has_nodes")
        uow.publishers.delete(publisher)
        uow.emit(EventType.PUBLISHER_DELETED, publisher_id=publisher_id, by=user.id)
        uow.commit()


def can_edit(uow: UnitOfWork, identity: Identity, publisher_id: str) -> bool:
    with uow:
        owned_publisher(uow, identity, publisher_id)
        uow.commit()
        return True


def me(uow: UnitOfWork, identity: Identity) -> User:
    with uow:
        user = login(uow, identity)
        uow.commit()
        return user
