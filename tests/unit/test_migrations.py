"""Migrations: the models match them, and the data steps fold existing ids."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from shared.db import migrate
from shared.db.engine import make_engine


def test_models_match_the_migrations(database_url: str) -> None:
    command.check(migrate.config(database_url))  # raises if a model change lacks a migration


def test_0002_folds_existing_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0001")
    engine = make_engine(url)
    now = datetime(2025, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO publishers (id, name, description, website, support_email, source_code_repo,"
                " logo_url, status, created_at, updated_at) VALUES"
                " ('comfy-org', 'C', '', '', '', '', '', 'active', :t, :t)"
            ),
            {"t": now},
        )
        for i, node_id in enumerate(["Comfy_Node", "comfynode", "other"]):
            conn.execute(
                text(
                    "INSERT INTO nodes (id, normalized_id, publisher_id, name, description, category, author, license,"
                    " repository_url, icon_url, banner_url, tags, tags_admin, supported_os, supported_accelerators,"
                    " supported_comfyui_version, supported_comfyui_frontend_version, total_install, total_star,"
                    " total_review, status, status_detail, changed_at, created_at, updated_at) VALUES"
                    " (:id, lower(:id), 'comfy-org', '', '', '', '', '', '', '', '', '[]', '[]', '[]', '[]', '', '',"
                    " 0, 0, 0, 'active', '', :t, :t, :t)"
                ),
                {"id": node_id, "t": now.replace(minute=i)},
            )
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        nodes: dict[str, str] = {r[0]: r[1] for r in conn.execute(text("SELECT id, normalized_id FROM nodes"))}
        publishers: dict[str, str] = {
            r[0]: r[1] for r in conn.execute(text("SELECT id, normalized_id FROM publishers"))
        }
    engine.dispose()
    assert nodes == {"Comfy_Node": "comfynode", "comfynode": "~comfynode", "other": "other"}
    assert publishers == {"comfy-org": "comfyorg"}
