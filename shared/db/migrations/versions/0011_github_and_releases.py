"""GitHub stars on nodes, the release feed, and job pauses

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00.000000

`nodes.github_stars` (with when the stars job last looked, so each run takes the nodes looked at longest ago),
`release_notes` (GET /releases, written by GitHub's release webhook, one row per project and version) and
`job_pauses` (a scheduled job told to wait, such as the stars job when GitHub's rate limit is spent).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shared.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not batch mode: on SQLite a batch copies `nodes`, which the search triggers refer to.
    op.add_column("nodes", sa.Column("github_stars", sa.Integer(), server_default="0", nullable=False))
    op.add_column("nodes", sa.Column("github_stars_checked_at", shared.db.types.UTCDateTime(timezone=True)))
    op.create_index(op.f("ix_nodes_github_stars_checked_at"), "nodes", ["github_stars_checked_at"])
    op.create_table(
        "release_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("sort_key", sa.String(length=200), nullable=False),
        sa.Column("attention", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("published_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("github_release_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_notes")),
        sa.UniqueConstraint("project", "version", name=op.f("uq_release_notes_project_version")),
    )
    op.create_table(
        "job_pauses",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("until", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_pauses")),
    )


def downgrade() -> None:
    op.drop_table("job_pauses")
    op.drop_table("release_notes")
    op.drop_index(op.f("ix_nodes_github_stars_checked_at"), table_name="nodes")
    op.drop_column("nodes", "github_stars_checked_at")  # SQLite 3.35 and later drop a column in place
    op.drop_column("nodes", "github_stars")
