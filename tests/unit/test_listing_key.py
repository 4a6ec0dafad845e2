"""A listing's statements and its remembered counts are kept per `listing.listing_key` (shared/repositories/
listing.py): every field of NodeFilter must change that key, or two listings would share one statement."""

from __future__ import annotations

import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from shared.db.models import Node
from shared.repositories import listing
from shared.repositories.ports import NodeFilter

OTHER_VALUES: dict[str, Any] = {
    "include_banned": True,
    "changed_since": datetime(2026, 1, 1, tzinfo=UTC),
    "node_ids": ["a"],
    "publisher_id": "p",
    "supported_os": [["Linux"]],
    "supported_accelerators": [["CUDA"]],
    "sort": [("downloads", True)],
    "comfyui_version_key": "0000000001",
}


def test_every_filter_field_changes_the_listing_key() -> None:
    assert {f.name for f in fields(NodeFilter)} == set(OTHER_VALUES)  # a new field needs a value here, and a key
    base = NodeFilter()
    for name, value in OTHER_VALUES.items():
        assert listing.listing_key(replace(base, **{name: value})) != listing.listing_key(base), name


def test_statements_are_built_once_per_listing() -> None:
    built: list[NodeFilter] = []

    def filtered(f: NodeFilter) -> Select[Any]:
        built.append(f)
        return select(Node)

    # Publishers no other test lists: the statements kept here select every node.
    mark = uuid.uuid4().hex
    one, two = NodeFilter(publisher_id=f"{mark}-1"), NodeFilter(publisher_id=f"{mark}-2")
    order = [(Node.id, False)]
    first = listing.statements(one, lambda: filtered(one), order)
    assert listing.statements(NodeFilter(publisher_id=f"{mark}-1"), lambda: filtered(one), order) is first
    assert listing.statements(two, lambda: filtered(two), order) is not first
    assert built == [one, two]
