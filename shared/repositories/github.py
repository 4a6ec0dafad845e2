"""What the stars job keeps: each node's GitHub stars and when they were last looked at, and its pause while GitHub's
rate limit is spent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db.models import JobPause, Node
from shared.statuses import NodeStatus


class GitHubStars:
    def __init__(self, session: Session) -> None:
        self.s = session

    def due(self, limit: int) -> list[tuple[str, str]]:
        """(node id, repository URL) of up to `limit` live nodes with a GitHub repository, never looked at first,
        then those looked at longest ago."""
        checked = Node.github_stars_checked_at
        stmt = (
            select(Node.id, Node.repository_url)
            .where(Node.status != NodeStatus.DELETED, Node.repository_url.ilike("%github.com/%"))
            .order_by(checked.is_not(None), checked, Node.id)
            .limit(limit)
        )
        return [(row.id, row.repository_url) for row in self.s.execute(stmt)]

    def record(self, node_id: str, stars: int | None, when: datetime) -> None:
        """Store what GitHub said (None: the repository is gone, its count stays) and when it was asked. Neither the
        node's update time nor its change time moves: incremental sync is about the packs, not their popularity."""
        values: dict[str, object] = {"github_stars_checked_at": when}
        if stars is not None:
            values["github_stars"] = stars
        stmt = update(Node).where(Node.id == node_id).values(**values)
        self.s.execute(stmt.execution_options(synchronize_session=False))

    def paused_until(self, job: str) -> datetime | None:
        return self.s.scalar(select(JobPause.until).where(JobPause.name == job))

    def pause(self, job: str, until: datetime | None) -> None:
        """Make runs of `job` before `until` wait; None lifts the pause."""
        row = self.s.get(JobPause, job)
        if until is None:
            if row is not None:
                self.s.delete(row)
        elif row is None:
            self.s.add(JobPause(name=job, until=until))
        else:
            row.until = until
