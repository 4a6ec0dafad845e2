"""JSON in the cloud or when asked for, plain text on a workstation; the text line names the request id too."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared.observe import logs
from shared.settings import Settings


@pytest.fixture(autouse=True)
def _no_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("K_SERVICE", "LOG_FORMAT", "APP_ENV", "FIREBASE_AUTH_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_text_locally_json_in_the_cloud_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().log_json is False
    assert Settings(LOG_FORMAT="json").log_json is True
    monkeypatch.setenv("K_SERVICE", "registry")
    assert Settings(BLOB_BACKEND="gcs").log_json is True
    assert Settings(BLOB_BACKEND="gcs", LOG_FORMAT="text").log_json is False


def test_configure_writes_the_chosen_format() -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    out = io.StringIO()
    try:
        logs.configure(Settings(LOG_FORMAT="json"), stream=out)
        token = logs.enter({"requestId": "r-1", "function": "registry"})
        logging.getLogger("x").warning("hello %s", "there")
        logs.leave(token)
        line = json.loads(out.getvalue().splitlines()[-1])
        assert line["severity"] == "WARNING" and line["message"] == "hello there" and line["requestId"] == "r-1"
        text = io.StringIO()
        logs.configure(Settings(), stream=text)  # replaces the handler it installed
        token = logs.enter({"requestId": "r-2"})
        logging.getLogger("x").warning("plain")
        logs.leave(token)
        assert text.getvalue().rstrip().endswith("WARNING x: plain [request r-2]")
        assert "plain" not in out.getvalue()
    finally:
        for h in [h for h in root.handlers if h not in before]:
            root.removeHandler(h)
        root.setLevel(level)
