"""Release notes in the live service's `ReleaseNote` shape, and what a webhook delivery did."""

from __future__ import annotations

from typing import Any

from functions.registry.releases.usecases import Applied
from shared import wire
from shared.db.models import ReleaseNote


def note(row: ReleaseNote) -> dict[str, Any]:
    return {
        "id": row.id,
        "project": row.project,
        "version": row.version,
        "attention": row.attention,
        "content": row.content,
        "published_at": wire.time(row.published_at),
    }


def applied(result: Applied) -> dict[str, Any]:
    return {"outcome": result.outcome, "project": result.project, "version": result.version}
