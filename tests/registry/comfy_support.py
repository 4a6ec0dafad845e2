"""Rows for the comfy-node and scheduled-job tests, written straight to the database (no publish rate limits,
any status or age), plus the outbox events those endpoints emit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from shared import naming, version_numbers
from shared.db.models import Node, NodeVersion, OutboxEvent, User
from shared.db.types import utcnow
from tests.support import RegistryClient


@dataclass
class Catalog:
    api: RegistryClient
    publisher_id: str = "alice-pub"
    owner: str = "alice"

    def __post_init__(self) -> None:
        self.api.create_publisher(self.owner, self.publisher_id)

    def node(self, node_id: str, *, status: str = "active", downloads: int = 0, publisher_id: str = "") -> None:
        with self.api.container.sessions() as s:
            s.add(
                Node(
                    id=node_id,
                    normalized_id=naming.fold(node_id),
                    publisher_id=publisher_id or self.publisher_id,
                    name=node_id.title(),
                    status=status,
                    total_install=downloads,
                )
            )
            s.commit()

    def version(
        self,
        node_id: str,
        version: str,
        *,
        status: str = "pending",
        extract: str = "pending",
        age: timedelta | None = None,
    ) -> str:
        created = utcnow() - (age or timedelta(0))
        row = NodeVersion(
            node_id=node_id,
            version=version,
            sort_key=version_numbers.sort_key(version),
            status=status,
            storage_path=f"{self.publisher_id}/{node_id}/{version}/upload/node.zip",
            # An active row is taken as scanned and released (no archive is written).
            release_path=f"{self.publisher_id}/{node_id}/{version}/node.zip" if status == "active" else None,
            comfy_node_extract_status=extract,
            created_at=created,
            updated_at=created,
        )
        with self.api.container.sessions() as s:
            s.add(row)
            s.commit()
        return row.id

    def set_user(self, uid: str, **values: Any) -> None:
        """Create the user row if needed (a first call) and change it."""
        self.api.get("/users", as_=uid)
        with self.api.container.sessions() as s:
            user = s.get(User, uid)
            assert user is not None
            for key, value in values.items():
                setattr(user, key, value)
            s.commit()

    def events(self, type_: str) -> list[dict[str, Any]]:
        with self.api.container.sessions() as s:
            rows = s.scalars(select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.created_at))
            return [dict(e.payload) for e in rows.all()]
