"""Personal access tokens: shown once, stored as a SHA-256 digest with a display prefix, optionally expiring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from functions.registry.common.access import owned_publisher
from functions.registry.publishing.usecases.commands import NewToken
from shared.auth import secrets
from shared.auth.identity import Identity
from shared.db.models import PersonalAccessToken
from shared.db.types import utcnow
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.events import AuditAction
from shared.statuses import UserStatus
from shared.uow import UnitOfWork

PREFIX = "cpat_"
_BAD_TOKEN = "Invalid personal access token"  # noqa: S105 - a message, not a secret


@dataclass(frozen=True)
class IssuedToken:
    row: PersonalAccessToken
    value: str  # the only time the clear value exists


def create(
    uow: UnitOfWork, identity: Identity, publisher_id: str, body: NewToken, default_ttl_days: int | None
) -> IssuedToken:
    now = utcnow()
    expires_at = body.expires_at
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput("expiresAt must carry a time zone (RFC 3339)", code="invalid_expiry")
        if expires_at <= now:
            raise InvalidInput("expiresAt must be in the future", code="invalid_expiry")
    elif body.expires_in_days is not None:
        expires_at = now + timedelta(days=body.expires_in_days)
    elif default_ttl_days is not None:
        expires_at = now + timedelta(days=default_ttl_days)
    value = secrets.new_secret(PREFIX)
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        row = PersonalAccessToken(
            publisher_id=publisher.id,
            name=body.name,
            description=body.description or "",
            token_digest=secrets.digest(value),
            token_prefix=secrets.display_prefix(value, len(PREFIX) + 4),
            expires_at=expires_at,
            node_ids=body.node_ids or None,
            created_by=user.id,
        )
        uow.tokens.add(row)
        uow.flush()
        uow.audit(user.id, AuditAction.TOKEN_CREATE, "publisher", publisher.id, token_id=row.id)
        uow.commit()
        return IssuedToken(row, value)


def list_for(uow: UnitOfWork, identity: Identity, publisher_id: str) -> Sequence[PersonalAccessToken]:
    with uow:
        owned_publisher(uow, identity, publisher_id)
        uow.commit()
        return uow.tokens.list_for_publisher(publisher_id)


def delete(uow: UnitOfWork, identity: Identity, publisher_id: str, token_id: str) -> None:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        row = uow.tokens.get(token_id)
        if row is None or row.publisher_id != publisher.id:
            raise NotFound("Token not found", code="token_not_found")
        uow.tokens.delete(row)
        uow.audit(user.id, AuditAction.TOKEN_DELETE, "publisher", publisher.id, token_id=token_id)
        uow.commit()


def authenticate(uow: UnitOfWork, value: str, publisher_id: str, node_id: str) -> PersonalAccessToken:
    """The publish body's token, checked inside the caller's unit of work. Failures are 400, as comfy-cli expects."""
    row = uow.tokens.by_digest(secrets.digest(value))
    if row is None or not secrets.matches(value, row.token_digest) or row.publisher_id != publisher_id:
        raise InvalidInput(_BAD_TOKEN, code="invalid_token")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise InvalidInput("Personal access token has expired", code="token_expired")
    if row.node_ids and node_id not in row.node_ids:
        raise InvalidInput("Personal access token is not valid for this node", code="token_scope")
    # A banned person's tokens stop working with the rest of their access, as every login of theirs does.
    creator = uow.users.get(row.created_by) if row.created_by else None
    if creator is not None and creator.status == UserStatus.BANNED:
        raise Forbidden("user/publisher is banned", code="user_banned")
    row.last_used_at = utcnow()
    return row
