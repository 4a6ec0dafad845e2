"""The sort names the use cases accept (shared/repositories/ports.py) are exactly those the SQL can order by."""

from __future__ import annotations

from shared.repositories import catalog, ports


def test_every_sortable_name_has_a_column_and_no_column_is_unnamed() -> None:
    assert set(catalog.SORTABLE) == set(ports.SORTABLE)
