"""Capturing what the functions log, as the JSON lines Cloud Logging would read."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shared.observe import logs


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def requests(self) -> list[dict[str, Any]]:
        """The request and run lines (logger `comfy.request`)."""
        return [line for line in self.lines() if line.get("logger") == "comfy.request"]

    def one_request(self) -> dict[str, Any]:
        lines = self.requests()
        assert len(lines) == 1, lines
        return lines[0]


@pytest.fixture
def json_log() -> Iterator[Captured]:
    captured = Captured()
    handler = logs.handler(json_lines=True, stream=captured.stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any, sqlite_template: Any) -> Iterator[str]:
    """What is logged does not depend on the database: SQLite alone."""
    import shutil

    path = tmp_path / "observe.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"
