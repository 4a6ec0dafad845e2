"""Reviews: one star rating per user per node, written race-free."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db.dialect import insert_for
from shared.db.models import NodeReview
from shared.db.types import new_uuid, utcnow
from shared.errors import Conflict


class Reviews:
    def __init__(self, session: Session) -> None:
        self.s = session

    def put(self, node_id: str, user_id: str, star: int) -> int | None:
        """Record the user's star for the node; returns the star it replaced, or None for a first review.

        Insert-or-ignore on (node_id, user_id) means two racing first reviews of one user leave one row;
        the loser then reads that row under a lock, so its change is measured against what is stored."""
        now = utcnow()
        insert = insert_for(self.s)
        inserted = self.s.scalar(
            insert(NodeReview)
            .values(id=new_uuid(), node_id=node_id, user_id=user_id, star=star, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["node_id", "user_id"])
            .returning(NodeReview.id)
        )
        if inserted is not None:
            return None
        previous = self.s.scalar(
            select(NodeReview.star)
            .where(NodeReview.node_id == node_id, NodeReview.user_id == user_id)
            .with_for_update()
        )
        if previous is None:  # the row vanished between the two statements: its node was erased meanwhile
            raise Conflict("The review could not be recorded; try again.", code="review_conflict")
        self.s.execute(
            update(NodeReview)
            .where(NodeReview.node_id == node_id, NodeReview.user_id == user_id)
            .values(star=star, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(previous)
