"""moderation, translations, ci, rate limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:44:06.144620
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('git_commits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('repo_name', sa.String(length=512), nullable=False),
    sa.Column('commit_hash', sa.String(length=128), nullable=False),
    sa.Column('branch_name', sa.String(length=512), nullable=False),
    sa.Column('commit_message', sa.Text(), nullable=False),
    sa.Column('commit_timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=512), nullable=False),
    sa.Column('pr_number', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_git_commits')),
    sa.UniqueConstraint('repo_name', 'commit_hash', name=op.f('uq_git_commits_repo_name_commit_hash'))
    )
    op.create_table('rate_limit_buckets',
    sa.Column('key', sa.String(length=256), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_buckets'))
    )
    op.create_table('ci_workflow_results',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('git_commit_id', sa.String(length=36), nullable=False),
    sa.Column('operating_system', sa.String(length=256), nullable=False),
    sa.Column('workflow_name', sa.String(length=512), nullable=False),
    sa.Column('run_id', sa.String(length=256), nullable=False),
    sa.Column('job_id', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_time', sa.BigInteger(), nullable=True),
    sa.Column('end_time', sa.BigInteger(), nullable=True),
    sa.Column('python_version', sa.String(length=64), nullable=False),
    sa.Column('pytorch_version', sa.String(length=64), nullable=False),
    sa.Column('cuda_version', sa.String(length=64), nullable=False),
    sa.Column('comfy_run_flags', sa.Text(), nullable=False),
    sa.Column('avg_vram', sa.Integer(), nullable=True),
    sa.Column('peak_vram', sa.Integer(), nullable=True),
    sa.Column('job_trigger_user', sa.String(length=256), nullable=False),
    sa.Column('author', sa.String(length=512), nullable=False),
    sa.Column('machine_stats', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['git_commit_id'], ['git_commits.id'], name=op.f('fk_ci_workflow_results_git_commit_id_git_commits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ci_workflow_results'))
    )
    with op.batch_alter_table('ci_workflow_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ci_workflow_results_git_commit_id'), ['git_commit_id'], unique=False)

    op.create_table('ci_artifacts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('workflow_result_id', sa.String(length=36), nullable=False),
    sa.Column('file_type', sa.String(length=32), nullable=False),
    sa.Column('bucket_name', sa.String(length=256), nullable=False),
    sa.Column('file_path', sa.String(length=2048), nullable=False),
    sa.Column('file_url', sa.String(length=4096), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workflow_result_id'], ['ci_workflow_results.id'], name=op.f('fk_ci_artifacts_workflow_result_id_ci_workflow_results'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ci_artifacts'))
    )
    with op.batch_alter_table('ci_artifacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ci_artifacts_workflow_result_id'), ['workflow_result_id'], unique=False)

    with op.batch_alter_table('node_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deprecation_reason', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('publishers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('normalized_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_publishers_normalized_id'), ['normalized_id'])
    _fold_existing_ids()


def _fold(identifier: str) -> str:
    # Frozen copy of shared.naming.fold as of this revision: migrations must not change with the code.
    text = re.sub(r"[\s._\-]+", "", unicodedata.normalize("NFKC", identifier).casefold())
    for sequence, replacement in (("rn", "m"), ("vv", "w"), ("cl", "d")):
        text = text.replace(sequence, replacement)
    return text.translate(str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l"}))


def _fold_existing_ids() -> None:
    """Existing ids get their folded form; where two already fold alike, the later keeps a unique stand-in."""
    bind = op.get_bind()
    # First make every value unique and out of the way, so the pass below never meets an old one.
    bind.execute(sa.text("UPDATE nodes SET normalized_id = '#' || id"))
    for table, fallback in (("publishers", None), ("nodes", "~")):
        seen: set[str] = set()
        rows = bind.execute(sa.text(f"SELECT id FROM {table} ORDER BY created_at, id")).all()
        for (identifier,) in rows:
            folded = _fold(identifier)
            if folded in seen:
                value = None if fallback is None else fallback + identifier.lower()
            else:
                seen.add(folded)
                value = folded
            bind.execute(sa.text(f"UPDATE {table} SET normalized_id = :v WHERE id = :id"), {"v": value, "id": identifier})




def downgrade() -> None:

    with op.batch_alter_table('publishers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_publishers_normalized_id'), type_='unique')
        batch_op.drop_column('normalized_id')

    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('translations')

    with op.batch_alter_table('node_versions', schema=None) as batch_op:
        batch_op.drop_column('deprecation_reason')

    with op.batch_alter_table('ci_artifacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ci_artifacts_workflow_result_id'))

    op.drop_table('ci_artifacts')
    with op.batch_alter_table('ci_workflow_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ci_workflow_results_git_commit_id'))

    op.drop_table('ci_workflow_results')
    op.drop_table('rate_limit_buckets')
    op.drop_table('git_commits')

