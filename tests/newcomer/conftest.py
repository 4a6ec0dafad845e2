"""The newcomer's first hour does not depend on the database engine: SQLite alone (the engine's own failures of a
missing schema are checked on both in test_first_hour.py)."""

from __future__ import annotations

from tests.observe.conftest import database_url

__all__ = ["database_url"]
