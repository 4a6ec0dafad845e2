"""Users, publishers, their permissions and their personal access tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.auth.identity import Identity
from shared.db.dialect import insert_for
from shared.db.models import PersonalAccessToken, Publisher, PublisherPermission, User
from shared.db.types import utcnow
from shared.statuses import Permission, UserStatus


class Users:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, uid: str) -> User | None:
        return self.s.get(User, uid)

    def upsert(self, identity: Identity) -> User:
        """Keep the row in step with the token's claims, as every login does."""
        user = self.s.get(User, identity.uid)
        if user is None:
            # Two first requests of one user can race: insert-or-ignore, then read whichever row won.
            insert = insert_for(self.s)
            self.s.execute(
                insert(User)
                .values(
                    id=identity.uid,
                    email=identity.email,
                    name=identity.name,
                    is_approved=False,
                    is_admin=False,
                    status=UserStatus.ACTIVE,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            user = self.s.get(User, identity.uid)
            assert user is not None
        else:
            if identity.email is not None and user.email != identity.email:
                user.email = identity.email
            if identity.name is not None and user.name != identity.name:
                user.name = identity.name
        return user


class Publishers:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, publisher_id: str) -> Publisher | None:
        return self.s.get(Publisher, publisher_id)

    def by_normalized_id(self, normalized_id: str) -> Publisher | None:
        return self.s.scalar(select(Publisher).where(Publisher.normalized_id == normalized_id))

    def add(self, publisher: Publisher) -> None:
        self.s.add(publisher)

    def delete(self, publisher: Publisher) -> None:
        self.s.delete(publisher)

    def list_all(self) -> Sequence[Publisher]:
        return self.s.scalars(select(Publisher).order_by(Publisher.id)).unique().all()

    def list_for_user(self, uid: str) -> Sequence[Publisher]:
        stmt = (
            select(Publisher)
            .join(PublisherPermission, PublisherPermission.publisher_id == Publisher.id)
            .where(PublisherPermission.user_id == uid)
            .order_by(Publisher.id)
        )
        return self.s.scalars(stmt).unique().all()

    def count_owned_by(self, uid: str) -> int:
        stmt = (
            select(func.count())
            .select_from(PublisherPermission)
            .where(PublisherPermission.user_id == uid, PublisherPermission.permission == Permission.OWNER)
        )
        return int(self.s.scalar(stmt) or 0)

    def permission(self, publisher_id: str, uid: str) -> str | None:
        stmt = select(PublisherPermission.permission).where(
            PublisherPermission.publisher_id == publisher_id, PublisherPermission.user_id == uid
        )
        return self.s.scalar(stmt)

    def grant(self, publisher: Publisher, user: User, permission: str) -> None:
        publisher.permissions.append(PublisherPermission(user=user, permission=permission))


class Tokens:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, token: PersonalAccessToken) -> None:
        self.s.add(token)

    def get(self, token_id: str) -> PersonalAccessToken | None:
        return self.s.get(PersonalAccessToken, token_id)

    def by_digest(self, token_digest: str) -> PersonalAccessToken | None:
        stmt = select(PersonalAccessToken).where(PersonalAccessToken.token_digest == token_digest)
        return self.s.scalar(stmt)

    def list_for_publisher(self, publisher_id: str) -> Sequence[PersonalAccessToken]:
        stmt = (
            select(PersonalAccessToken)
            .where(PersonalAccessToken.publisher_id == publisher_id)
            .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id)
        )
        return self.s.scalars(stmt).all()

    def delete(self, token: PersonalAccessToken) -> None:
        self.s.delete(token)
