"""The relational model of the registry. Lists are JSON; statuses are short strings (wire names live in `wire`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db.types import UTCDateTime, new_uuid, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Timestamped, Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(256))
    is_approved: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")


class Publisher(Timestamped, Base):
    __tablename__ = "publishers"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The id folded for look-alike checks (case, separators, confusable characters).
    normalized_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(2048), default="")
    support_email: Mapped[str] = mapped_column(String(2048), default="")
    source_code_repo: Mapped[str] = mapped_column(String(2048), default="")
    logo_url: Mapped[str] = mapped_column(String(2048), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    permissions: Mapped[list[PublisherPermission]] = relationship(
        back_populates="publisher", cascade="all, delete-orphan", order_by="PublisherPermission.id"
    )


class PublisherPermission(Base):
    __tablename__ = "publisher_permissions"
    __table_args__ = (UniqueConstraint("publisher_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    publisher_id: Mapped[str] = mapped_column(ForeignKey("publishers.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    permission: Mapped[str] = mapped_column(String(16), default="owner")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    publisher: Mapped[Publisher] = relationship(back_populates="permissions")
    user: Mapped[User] = relationship(lazy="joined")


class PersonalAccessToken(Timestamped, Base):
    __tablename__ = "personal_access_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    publisher_id: Mapped[str] = mapped_column(ForeignKey("publishers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 hex of the token; the clear value is shown once and never stored.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    # None means every node of the publisher; otherwise only these node ids.
    node_ids: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(128))


class Node(Timestamped, Base):
    __tablename__ = "nodes"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    normalized_id: Mapped[str] = mapped_column(String(100), unique=True)
    publisher_id: Mapped[str] = mapped_column(ForeignKey("publishers.id"), index=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(256), default="")
    author: Mapped[str] = mapped_column(String(256), default="")
    license: Mapped[str] = mapped_column(Text, default="")
    repository_url: Mapped[str] = mapped_column(String(2048), default="")
    icon_url: Mapped[str] = mapped_column(String(2048), default="")
    banner_url: Mapped[str] = mapped_column(String(2048), default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    tags_admin: Mapped[list[str]] = mapped_column(default=list)
    supported_os: Mapped[list[str]] = mapped_column(default=list)
    supported_accelerators: Mapped[list[str]] = mapped_column(default=list)
    supported_comfyui_version: Mapped[str] = mapped_column(String(256), default="")
    supported_comfyui_frontend_version: Mapped[str] = mapped_column(String(256), default="")
    # Sort-key bounds [low, high) of supported_comfyui_version, so `comfyui_version=` filters in SQL.
    comfyui_low_key: Mapped[str | None] = mapped_column(String(200))
    comfyui_high_key: Mapped[str | None] = mapped_column(String(200))
    total_install: Mapped[int] = mapped_column(BigInteger, default=0)
    total_star: Mapped[int] = mapped_column(BigInteger, default=0)
    total_review: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_detail: Mapped[str] = mapped_column(Text, default="")
    # {language: {key: value}}, set through POST /nodes/{id}/translations.
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Bumped whenever the node or one of its versions changes: what incremental sync filters on.
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The repository's stargazers as GitHub last told the stars job (POST /nodes/update-github-stars), and when.
    github_stars: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    github_stars_checked_at: Mapped[datetime | None] = mapped_column(index=True)
    publisher: Mapped[Publisher] = relationship(lazy="joined")


class NodeVersion(Timestamped, Base):
    __tablename__ = "node_versions"
    __table_args__ = (
        UniqueConstraint("node_id", "version"),
        Index("ix_node_versions_node_id_sort_key", "node_id", "sort_key"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(128))
    # Zero-padded semver so that ORDER BY gives semantic order (1.10.0 after 1.9.0).
    sort_key: Mapped[str] = mapped_column(String(200))
    changelog: Mapped[str] = mapped_column(Text, default="")
    pip_dependencies: Mapped[list[str]] = mapped_column(default=list)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecation_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # The upload's object in the private quarantine (one per publish attempt, see shared/archives.py).
    storage_path: Mapped[str] = mapped_column(String(1024), index=True)
    # Set while the judged bytes are public in the release location; only the scanner sets it, a ban clears it.
    release_path: Mapped[str | None] = mapped_column(String(1024))
    # The personal access token that published it: the same publish retried by it is answered again.
    published_by_token: Mapped[str | None] = mapped_column(String(36))
    supported_os: Mapped[list[str]] = mapped_column(default=list)
    supported_accelerators: Mapped[list[str]] = mapped_column(default=list)
    supported_comfyui_version: Mapped[str] = mapped_column(String(256), default="")
    supported_comfyui_frontend_version: Mapped[str] = mapped_column(String(256), default="")
    comfy_node_extract_status: Mapped[str] = mapped_column(String(16), default="pending")
    comfy_node_cloud_build_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    archive_sha256: Mapped[str | None] = mapped_column(String(64))
    archive_size: Mapped[int | None] = mapped_column(BigInteger)
    # The scanner's findings, shown to the publisher and admins only; and when it last looked.
    scan_findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    scanned_at: Mapped[datetime | None] = mapped_column()
    # The scanner's rule-set version behind the current verdict (the sweep rescans what an older one judged), and how
    # many scans in a row ran out of time (each retry gets twice the budget; none of them is a verdict).
    scanner_version: Mapped[str | None] = mapped_column(String(32))
    scan_timeouts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class NodeReview(Timestamped, Base):
    __tablename__ = "node_reviews"
    __table_args__ = (UniqueConstraint("node_id", "user_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    star: Mapped[int] = mapped_column(Integer)


class ComfyNode(Timestamped, Base):
    __tablename__ = "comfy_nodes"
    __table_args__ = (UniqueConstraint("node_version_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    node_version_id: Mapped[str] = mapped_column(ForeignKey("node_versions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512), index=True)
    display_name: Mapped[str] = mapped_column(String(512), default="")
    category: Mapped[str] = mapped_column(String(512), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    input_types: Mapped[str] = mapped_column(Text, default="")
    return_types: Mapped[str] = mapped_column(Text, default="")
    return_names: Mapped[str] = mapped_column(Text, default="")
    output_is_list: Mapped[list[bool]] = mapped_column(JSON, default=list)
    function: Mapped[str] = mapped_column(String(512), default="")
    output_node: Mapped[bool] = mapped_column(default=False)
    deprecated: Mapped[bool] = mapped_column(default=False)
    experimental: Mapped[bool] = mapped_column(default=False)
    policy: Mapped[str] = mapped_column(String(16), default="active")


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "published_at", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    topic: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    actor_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RateLimitBucket(Base):
    """A token bucket per limited action and key (publisher, token): refilled by time, spent atomically."""

    __tablename__ = "rate_limit_buckets"
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column()


class GitCommit(Timestamped, Base):
    __tablename__ = "git_commits"
    __table_args__ = (UniqueConstraint("repo_name", "commit_hash"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    repo_name: Mapped[str] = mapped_column(String(512))  # lower-cased
    commit_hash: Mapped[str] = mapped_column(String(128))
    branch_name: Mapped[str] = mapped_column(String(512), default="")
    commit_message: Mapped[str] = mapped_column(Text, default="")
    commit_timestamp: Mapped[datetime] = mapped_column()
    author: Mapped[str] = mapped_column(String(512), default="")
    pr_number: Mapped[str] = mapped_column(String(64), default="")


class CiWorkflowResult(Timestamped, Base):
    __tablename__ = "ci_workflow_results"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    git_commit_id: Mapped[str] = mapped_column(ForeignKey("git_commits.id", ondelete="CASCADE"), index=True)
    operating_system: Mapped[str] = mapped_column(String(256), default="")
    workflow_name: Mapped[str] = mapped_column(String(512), default="")
    run_id: Mapped[str] = mapped_column(String(256), default="")
    job_id: Mapped[str] = mapped_column(String(256), default="")
    status: Mapped[str] = mapped_column(String(16), default="STARTED")
    start_time: Mapped[int | None] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    python_version: Mapped[str] = mapped_column(String(64), default="")
    pytorch_version: Mapped[str] = mapped_column(String(64), default="")
    cuda_version: Mapped[str] = mapped_column(String(64), default="")
    comfy_run_flags: Mapped[str] = mapped_column(Text, default="")
    avg_vram: Mapped[int | None] = mapped_column(Integer)
    peak_vram: Mapped[int | None] = mapped_column(Integer)
    job_trigger_user: Mapped[str] = mapped_column(String(256), default="")
    author: Mapped[str] = mapped_column(String(512), default="")
    machine_stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CiArtifact(Base):
    __tablename__ = "ci_artifacts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    workflow_result_id: Mapped[str] = mapped_column(
        ForeignKey("ci_workflow_results.id", ondelete="CASCADE"), index=True
    )
    file_type: Mapped[str] = mapped_column(String(32), default="image")
    bucket_name: Mapped[str] = mapped_column(String(256), default="")
    file_path: Mapped[str] = mapped_column(String(2048))
    file_url: Mapped[str] = mapped_column(String(4096), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppliedEvent(Base):
    """Events a consumer has applied, so that a redelivery changes nothing."""

    __tablename__ = "applied_events"
    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogEpoch(Base):
    """One row whose value every commit that emits an event bumps: instances compare it to drop cached reads."""

    __tablename__ = "catalog_epoch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ReleaseNote(Timestamped, Base):
    """One release of a Comfy project as GET /releases shows it, written by GitHub's release webhook."""

    __tablename__ = "release_notes"
    __table_args__ = (UniqueConstraint("project", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(128))
    sort_key: Mapped[str] = mapped_column(String(200))  # shared/version_numbers.sort_key: semantic order in SQL
    attention: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column()
    github_release_id: Mapped[int | None] = mapped_column(BigInteger)


class JobPause(Base):
    """A scheduled job told to wait (GitHub's rate limit for the stars job): runs before `until` do nothing."""

    __tablename__ = "job_pauses"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime] = mapped_column()


# The billing tables share this metadata (Alembic and create_all see them through this import).
from shared.db import billing_models as _billing_models  # noqa: E402,F401
from shared.db import proxy_models as _proxy_models  # noqa: E402,F401
