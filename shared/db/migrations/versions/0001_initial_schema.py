"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 04:31:02.711319
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_log',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=True),
    sa.Column('action', sa.String(length=128), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=False),
    sa.Column('target_id', sa.String(length=256), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)

    op.create_table('outbox_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=256), nullable=False),
    sa.Column('type', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_pending', ['published_at', 'created_at'], unique=False)

    op.create_table('publishers',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('website', sa.String(length=2048), nullable=False),
    sa.Column('support_email', sa.String(length=2048), nullable=False),
    sa.Column('source_code_repo', sa.String(length=2048), nullable=False),
    sa.Column('logo_url', sa.String(length=2048), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publishers'))
    )
    op.create_table('users',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('is_approved', sa.Boolean(), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_table('nodes',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('normalized_id', sa.String(length=100), nullable=False),
    sa.Column('publisher_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=256), nullable=False),
    sa.Column('author', sa.String(length=256), nullable=False),
    sa.Column('license', sa.Text(), nullable=False),
    sa.Column('repository_url', sa.String(length=2048), nullable=False),
    sa.Column('icon_url', sa.String(length=2048), nullable=False),
    sa.Column('banner_url', sa.String(length=2048), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('tags_admin', sa.JSON(), nullable=False),
    sa.Column('supported_os', sa.JSON(), nullable=False),
    sa.Column('supported_accelerators', sa.JSON(), nullable=False),
    sa.Column('supported_comfyui_version', sa.String(length=256), nullable=False),
    sa.Column('supported_comfyui_frontend_version', sa.String(length=256), nullable=False),
    sa.Column('comfyui_low_key', sa.String(length=200), nullable=True),
    sa.Column('comfyui_high_key', sa.String(length=200), nullable=True),
    sa.Column('total_install', sa.BigInteger(), nullable=False),
    sa.Column('total_star', sa.BigInteger(), nullable=False),
    sa.Column('total_review', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['publishers.id'], name=op.f('fk_nodes_publisher_id_publishers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nodes')),
    sa.UniqueConstraint('normalized_id', name=op.f('uq_nodes_normalized_id'))
    )
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nodes_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_publisher_id'), ['publisher_id'], unique=False)

    op.create_table('personal_access_tokens',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('publisher_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('node_ids', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['publishers.id'], name=op.f('fk_personal_access_tokens_publisher_id_publishers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_access_tokens')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_personal_access_tokens_token_digest'))
    )
    with op.batch_alter_table('personal_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_access_tokens_publisher_id'), ['publisher_id'], unique=False)

    op.create_table('publisher_permissions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('publisher_id', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('permission', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['publishers.id'], name=op.f('fk_publisher_permissions_publisher_id_publishers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_publisher_permissions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_permissions')),
    sa.UniqueConstraint('publisher_id', 'user_id', name=op.f('uq_publisher_permissions_publisher_id_user_id'))
    )
    with op.batch_alter_table('publisher_permissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publisher_permissions_user_id'), ['user_id'], unique=False)

    op.create_table('node_reviews',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('node_id', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('star', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_node_reviews_node_id_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_node_reviews_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_reviews')),
    sa.UniqueConstraint('node_id', 'user_id', name=op.f('uq_node_reviews_node_id_user_id'))
    )
    op.create_table('node_versions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('node_id', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('sort_key', sa.String(length=200), nullable=False),
    sa.Column('changelog', sa.Text(), nullable=False),
    sa.Column('pip_dependencies', sa.JSON(), nullable=False),
    sa.Column('deprecated', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('storage_path', sa.String(length=1024), nullable=False),
    sa.Column('supported_os', sa.JSON(), nullable=False),
    sa.Column('supported_accelerators', sa.JSON(), nullable=False),
    sa.Column('supported_comfyui_version', sa.String(length=256), nullable=False),
    sa.Column('supported_comfyui_frontend_version', sa.String(length=256), nullable=False),
    sa.Column('comfy_node_extract_status', sa.String(length=16), nullable=False),
    sa.Column('comfy_node_cloud_build_info', sa.JSON(), nullable=True),
    sa.Column('archive_sha256', sa.String(length=64), nullable=True),
    sa.Column('archive_size', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_node_versions_node_id_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_versions')),
    sa.UniqueConstraint('node_id', 'version', name=op.f('uq_node_versions_node_id_version'))
    )
    with op.batch_alter_table('node_versions', schema=None) as batch_op:
        batch_op.create_index('ix_node_versions_node_id_sort_key', ['node_id', 'sort_key'], unique=False)

    op.create_table('comfy_nodes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('node_version_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('display_name', sa.String(length=512), nullable=False),
    sa.Column('category', sa.String(length=512), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('input_types', sa.Text(), nullable=False),
    sa.Column('return_types', sa.Text(), nullable=False),
    sa.Column('return_names', sa.Text(), nullable=False),
    sa.Column('output_is_list', sa.JSON(), nullable=False),
    sa.Column('function', sa.String(length=512), nullable=False),
    sa.Column('output_node', sa.Boolean(), nullable=False),
    sa.Column('deprecated', sa.Boolean(), nullable=False),
    sa.Column('experimental', sa.Boolean(), nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_version_id'], ['node_versions.id'], name=op.f('fk_comfy_nodes_node_version_id_node_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comfy_nodes')),
    sa.UniqueConstraint('node_version_id', 'name', name=op.f('uq_comfy_nodes_node_version_id_name'))
    )
    with op.batch_alter_table('comfy_nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comfy_nodes_name'), ['name'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('comfy_nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comfy_nodes_name'))

    op.drop_table('comfy_nodes')
    with op.batch_alter_table('node_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_node_versions_node_id_sort_key')

    op.drop_table('node_versions')
    op.drop_table('node_reviews')
    with op.batch_alter_table('publisher_permissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publisher_permissions_user_id'))

    op.drop_table('publisher_permissions')
    with op.batch_alter_table('personal_access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_access_tokens_publisher_id'))

    op.drop_table('personal_access_tokens')
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nodes_publisher_id'))
        batch_op.drop_index(batch_op.f('ix_nodes_changed_at'))

    op.drop_table('nodes')
    op.drop_table('users')
    op.drop_table('publishers')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_pending')

    op.drop_table('outbox_events')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))

    op.drop_table('audit_log')

