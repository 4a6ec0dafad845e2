"""CI results of ci.comfy.org: git commits, the workflow results reported for them, and their output files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, delete, exists, func, select
from sqlalchemy.orm import Session

from shared.db.dialect import insert_for
from shared.db.models import CiArtifact, CiWorkflowResult, GitCommit
from shared.db.types import new_uuid, utcnow

# Per operating system, the status a commit summary shows is the highest of its results in this order.
PRECEDENCE = ("COMPLETED", "STARTED", "FAILED")


@dataclass(frozen=True)
class CommitIn:
    repo_name: str  # lower-cased by the caller
    commit_hash: str
    branch_name: str
    commit_message: str
    commit_timestamp: datetime
    author: str
    pr_number: str


@dataclass
class ResultFilter:
    repo_name: str
    commit_id: str | None = None
    branch_name: str | None = None
    operating_system: str | None = None
    workflow_name: str | None = None


class CiResults:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- writes ---------------------------------------------------------------------------------------
    def upsert_commit(self, c: CommitIn) -> str:
        """Insert or refresh the commit; concurrent uploads of one commit meet on the unique (repo, hash)."""
        insert = insert_for(self.s)
        now = utcnow()
        stmt = insert(GitCommit).values(
            id=new_uuid(),
            repo_name=c.repo_name,
            commit_hash=c.commit_hash,
            branch_name=c.branch_name,
            commit_message=c.commit_message,
            commit_timestamp=c.commit_timestamp,
            author=c.author,
            pr_number=c.pr_number,
            created_at=now,
            updated_at=now,
        )
        new = stmt.excluded
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["repo_name", "commit_hash"],
                set_={
                    "branch_name": new.branch_name,
                    "commit_message": new.commit_message,
                    "commit_timestamp": new.commit_timestamp,
                    # An upload that does not know the author or the PR keeps what an earlier one said.
                    "author": func.coalesce(func.nullif(new.author, ""), GitCommit.author),
                    "pr_number": func.coalesce(func.nullif(new.pr_number, ""), GitCommit.pr_number),
                    "updated_at": new.updated_at,
                },
            )
        )
        commit_id = self.s.scalar(
            select(GitCommit.id).where(GitCommit.repo_name == c.repo_name, GitCommit.commit_hash == c.commit_hash)
        )
        assert commit_id is not None
        return commit_id

    def delete_results(self, commit_id: str, workflow_name: str, operating_system: str) -> int:
        """Drop earlier results of this workflow on this OS; their artifacts go with them (ON DELETE CASCADE)."""
        result = self.s.execute(
            delete(CiWorkflowResult).where(
                CiWorkflowResult.git_commit_id == commit_id,
                CiWorkflowResult.workflow_name == workflow_name,
                CiWorkflowResult.operating_system == operating_system,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def add_result(self, row: CiWorkflowResult, artifacts: Sequence[CiArtifact]) -> None:
        self.s.add(row)
        self.s.flush()
        for artifact in artifacts:
            artifact.workflow_result_id = row.id
            self.s.add(artifact)
        self.s.flush()

    # -- reads ----------------------------------------------------------------------------------------
    def get_commit(self, commit_id: str) -> GitCommit | None:
        return self.s.get(GitCommit, commit_id)

    def get_result(self, result_id: str) -> tuple[CiWorkflowResult, GitCommit] | None:
        row = self.s.execute(_results().where(CiWorkflowResult.id == result_id)).first()
        return (row[0], row[1]) if row else None

    def page_results(
        self, f: ResultFilter, page: int, size: int
    ) -> tuple[list[tuple[CiWorkflowResult, GitCommit]], int]:
        """Results with their commit, newest commit first."""
        query = _results().where(GitCommit.repo_name == f.repo_name)
        for column, value in (
            (GitCommit.id, f.commit_id),
            (GitCommit.branch_name, f.branch_name),
            (CiWorkflowResult.operating_system, f.operating_system),
            (CiWorkflowResult.workflow_name, f.workflow_name),
        ):
            if value:
                query = query.where(column == value)
        total = self.s.scalar(select(func.count()).select_from(query.subquery())) or 0
        ordered = query.order_by(
            GitCommit.commit_timestamp.desc(), CiWorkflowResult.created_at.desc(), CiWorkflowResult.id
        )
        rows = self.s.execute(ordered.offset((page - 1) * size).limit(size)).all()
        return [(r[0], r[1]) for r in rows], total

    def first_artifacts(self, result_ids: Sequence[str]) -> dict[str, CiArtifact]:
        """The first output file of each result, in the order the upload listed them."""
        if not result_ids:
            return {}
        rows = self.s.scalars(
            select(CiArtifact)
            .where(CiArtifact.workflow_result_id.in_(result_ids))
            .order_by(CiArtifact.workflow_result_id, CiArtifact.created_at, CiArtifact.id)
        ).all()
        first: dict[str, CiArtifact] = {}
        for artifact in rows:
            first.setdefault(artifact.workflow_result_id, artifact)
        return first

    def page_commits_with_results(
        self, repo_name: str | None, branch_name: str | None, page: int, size: int
    ) -> tuple[list[GitCommit], int]:
        """Commits that have at least one result, newest first, with the exact number of them."""
        query = select(GitCommit).where(exists().where(CiWorkflowResult.git_commit_id == GitCommit.id))
        if repo_name:
            query = query.where(GitCommit.repo_name == repo_name)
        if branch_name:
            query = query.where(GitCommit.branch_name == branch_name)
        total = self.s.scalar(select(func.count()).select_from(query.subquery())) or 0
        ordered = query.order_by(GitCommit.commit_timestamp.desc(), GitCommit.id.desc())
        rows = self.s.scalars(ordered.offset((page - 1) * size).limit(size)).all()
        return list(rows), total

    def status_by_os(self, commit_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """{commit id: {operating system: status}}, the status being the highest by PRECEDENCE."""
        if not commit_ids:
            return {}
        rank = case(*[(CiWorkflowResult.status == s, i + 1) for i, s in enumerate(PRECEDENCE)], else_=0)
        rows = self.s.execute(
            select(CiWorkflowResult.git_commit_id, CiWorkflowResult.operating_system, func.max(rank))
            .where(CiWorkflowResult.git_commit_id.in_(commit_ids))
            .group_by(CiWorkflowResult.git_commit_id, CiWorkflowResult.operating_system)
        ).all()
        out: dict[str, dict[str, str]] = {}
        for commit_id, operating_system, best in rows:
            out.setdefault(commit_id, {})[operating_system] = PRECEDENCE[best - 1] if best else ""
        return out

    def branches(self, repo_name: str) -> list[str]:
        return list(
            self.s.scalars(
                select(GitCommit.branch_name)
                .where(GitCommit.repo_name == repo_name)
                .distinct()
                .order_by(GitCommit.branch_name)
            ).all()
        )


def _results() -> Select[CiWorkflowResult, GitCommit]:
    return select(CiWorkflowResult, GitCommit).join(GitCommit, GitCommit.id == CiWorkflowResult.git_commit_id)
