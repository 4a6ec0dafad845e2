"""quarantine and release: where a version's judged archive is public, and which token published it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 20:00:00

Uploads now land in a private quarantine; `release_path` names the public copy the scanner made of the judged bytes
(NULL: nothing public). Versions already active when this runs have no release yet: the scan sweep copies their
archives once it finds them active and unreleased, checking each against its recorded SHA-256.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, no batch mode: SQLite adds nullable columns in place, and rebuilding node_versions would trip
    # over the search triggers of 0004 that name it.
    op.add_column("node_versions", sa.Column("release_path", sa.String(length=1024), nullable=True))
    op.add_column("node_versions", sa.Column("published_by_token", sa.String(length=36), nullable=True))
    op.create_index("ix_node_versions_storage_path", "node_versions", ["storage_path"])


def downgrade() -> None:
    op.drop_index("ix_node_versions_storage_path", table_name="node_versions")
    op.drop_column("node_versions", "published_by_token")
    op.drop_column("node_versions", "release_path")
