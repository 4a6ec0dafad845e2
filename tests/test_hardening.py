"""What a hostile or careless client found (issue 11, defects 4 to 7), through the registry function's entry point
on both databases: bodies are bounded whatever their transfer encoding, any JSON failure is a 400, a database that
cannot take the request now is a 503 with Retry-After, list filters are bounded, and a bad configuration stops the
function from starting instead of answering requests."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import create_environ, run_wsgi_app

from shared.bootstrap import bootstrap
from shared.http import body
from tests.conftest import ROOT, make_settings
from tests.support import RegistryClient, client_of

BULK = "/bulk/nodes/versions"


class EndlessBody(io.RawIOBase):
    """A request body of `size` bytes made on demand, counting what the server pulled from it."""

    def __init__(self, size: int) -> None:
        self.size, self.pulled = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.pulled)
        buffer[:n] = b"[" * n
        self.pulled += n
        return n


def post_stream(api: RegistryClient, path: str, stream: Any, length: int | None = None) -> Any:
    """A POST of `stream` straight to the function's WSGI app. Without `length` the body has no Content-Length, as
    a chunked request reaches the function (the server decodes the chunks and marks the stream as ending by
    itself)."""
    environ = create_environ(path, method="POST", content_type="application/json")
    environ["wsgi.input"] = stream if isinstance(stream, io.BytesIO) else io.BufferedReader(stream)
    if length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(length)
    app_iter, status, _ = run_wsgi_app(api.client.application, environ)
    data = b"".join(app_iter)
    return int(status.split()[0]), json.loads(data)


# -- defect 4: chunked bodies are bounded ---------------------------------------------------------------------
def test_a_chunked_body_is_read_only_up_to_the_bound(api: RegistryClient) -> None:
    stream = EndlessBody(150 * 1024 * 1024)
    status, answer = post_stream(api, BULK, stream)
    assert status == 400 and answer["error"] == "too_large"
    # The guard reads at most the largest bound any handler has, plus a buffer; never the 150 MB.
    assert stream.pulled <= body.MAX_ANY_BODY + 256 * 1024
    small = EndlessBody(2 * 1024 * 1024)  # over the bulk endpoint's own bound (1 MB), under the guard's
    status, answer = post_stream(api, BULK, small)
    assert status == 400 and answer["error"] == "too_large"


def test_a_declared_length_over_the_bound_is_refused_unread(api: RegistryClient) -> None:
    stream = EndlessBody(50 * 1024 * 1024)
    status, answer = post_stream(api, BULK, stream, length=stream.size)
    assert status == 400 and answer["error"] == "too_large" and stream.pulled == 0


def test_a_small_chunked_body_is_read_whole(api: RegistryClient) -> None:
    payload = json.dumps({"node_versions": [{"node_id": "nope", "version": "1.0.0"}]}).encode()
    status, answer = post_stream(api, BULK, io.BytesIO(payload))
    assert status == 200, answer
    assert answer["node_versions"][0]["status"] == "not_found"


# -- defect 5: JSON that Python's parser chokes on is a 400 -----------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,  # past Python's recursion limit
        '{"a": ' + "[" * 65 + "]" * 65 + "}",  # parsed, but deeper than any request needs
        '{"node_versions": [{"node_id": "x", "version": ' + "9" * 5000 + "}]}",  # past int's 4,300-digit limit
        '{"x": 1e999999}',
        '{"x": NaN}',
        "\xff\xfe not utf-8",
    ],
    ids=["recursion", "depth", "huge-int", "huge-float", "nan", "encoding"],
)
def test_json_the_parser_chokes_on_is_a_400(api: RegistryClient, raw: str) -> None:
    data = raw.encode("latin-1")
    token = api.owner_with_token()
    for method, path, who in (
        ("POST", BULK, None),
        ("POST", "/publishers", "alice"),
        ("POST", "/publishers/alice-pub/nodes/n/versions", None),
        ("PUT", "/publishers/alice-pub", "alice"),
    ):
        r = api.call(method, path, data=data, as_=who)
        assert r.status_code == 400, (method, path, r.status_code, r.get_data(as_text=True)[:200])
        assert r.get_json()["error"] == "malformed_json", r.get_json()
    assert token  # the publish above was refused before its token was even read


# -- defect 6: no free connection is a 503 with Retry-After, not a stall and a 500 --------------------------------
@pytest.fixture
def one_connection(database_url: str, tmp_path: Path, registry_app: Any) -> Iterator[RegistryClient]:
    settings = make_settings(
        database_url,
        tmp_path / "pool",
        DATABASE_POOL_SIZE=1,
        DATABASE_MAX_OVERFLOW=0,
        DATABASE_POOL_TIMEOUT_SECONDS=0.2,
    )
    with client_of(bootstrap(settings), registry_app) as client:
        yield client


def test_an_exhausted_pool_is_a_503_with_retry_after(one_connection: RegistryClient) -> None:
    api = one_connection
    assert api.get("/nodes").status_code == 200
    with api.container.engine.connect():  # the only connection, held elsewhere
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/nodes", {}),
            ("POST", "/publishers", {"as_": "alice", "json_body": {"id": "alice-pub", "name": "A"}}),
        ]
        for method, path, kw in calls:
            r = api.call(method, path, **kw)
            assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.get_data(as_text=True)
            assert r.get_json()["error"] == "unavailable"
    assert api.get("/nodes").status_code == 200


# -- defect 7: bounded list filters; a bad configuration never starts ---------------------------------------------
def test_a_thousand_values_in_a_list_filter_is_a_clear_400(api: RegistryClient) -> None:
    many = ",".join(f"OS {i}" for i in range(1000))
    for path in ("/nodes", "/nodes/search"):
        r = api.get(path, query={"supported_os": many})
        assert r.status_code == 400 and r.get_json()["error"] == "too_many_values", r.get_data(as_text=True)
        assert "at most 32" in r.get_json()["message"]
    assert api.get("/nodes", query=[("supported_os", f"OS {i}") for i in range(32)]).status_code == 200
    ids = ",".join(f"node-{i}" for i in range(1000))
    assert api.get("/nodes", query={"node_id": ids}).status_code == 200  # an IN list: both databases take it


LOAD = """
import sys, functions_framework
functions_framework.create_app(sys.argv[1], sys.argv[2], sys.argv[3])
print("started")
"""


@pytest.mark.parametrize(
    ("target", "source", "kind"),
    [
        ("registry", "functions/registry/main.py", "http"),
        ("scanner", "functions/scanner/main.py", "cloudevent"),
        ("indexer", "functions/indexer/main.py", "cloudevent"),
    ],
)
def test_a_bad_production_configuration_fails_the_start(target: str, source: str, kind: str) -> None:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(ROOT)}
    good = {**base, "APP_ENV": "production", "BLOB_BACKEND": "gcs", "EVENTS_BACKEND": "pubsub"}
    started = subprocess.run(
        [sys.executable, "-c", LOAD, target, source, kind], cwd=ROOT, env=good, capture_output=True, text=True
    )
    assert started.returncode == 0 and "started" in started.stdout, started.stderr[-2000:]
    bad = {**good, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}
    refused = subprocess.run(
        [sys.executable, "-c", LOAD, target, source, kind], cwd=ROOT, env=bad, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "started" not in refused.stdout
    assert "ConfigurationError" in refused.stderr and "FIREBASE_AUTH_EMULATOR_HOST" in refused.stderr
