"""The local stack as `make run` serves it (werkzeug's server with our request handler, on a loopback port), on both
databases: chunked uploads, the server's own error answers, its access log, and concurrent writes (issue 11)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from werkzeug.serving import BaseWSGIServer

from local.server import make
from local.stack import LocalStack
from shared.auth import emulator
from shared.bootstrap import set_container
from tests.conftest import make_settings
from tests.support import clean_pack

pytestmark = pytest.mark.timeout(120)


@dataclass
class Served:
    base: str
    stack: LocalStack

    def token(self, uid: str) -> dict[str, str]:
        project = self.stack.settings.firebase_project_id
        return {"Authorization": f"Bearer {emulator.mint(project, uid, email=f'{uid}@example.com', name=uid)}"}


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Starts the stack with these settings overrides; stops it when the test ends."""
    running: list[tuple[BaseWSGIServer, threading.Thread, LocalStack]] = []

    def start(**overrides: object) -> Served:
        server = make("127.0.0.1", 0, None)
        base = f"http://127.0.0.1:{server.port}"
        data = tmp_path / f"data-{len(running)}"
        partial = data / "blobs" / "comfy-registry-uploads" / "p"
        partial.mkdir(parents=True)
        (partial / ".upload-left-by-a-crash").write_bytes(b"half")
        settings = make_settings(database_url, data, PUBLIC_BASE_URL=base, **overrides)
        stack = LocalStack(settings, migrate_db=False)
        server.app = stack
        thread = threading.Thread(target=server.serve_forever, name="served-stack", daemon=True)
        thread.start()
        running.append((server, thread, stack))
        return Served(base, stack)

    try:
        yield start
    finally:
        for server, thread, stack in running:
            server.shutdown()
            thread.join(timeout=10)
            stack.stop()
        set_container(None)


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve()


def publish(served: Served, node_id: str) -> dict[str, str]:
    auth = served.token("alice")
    if requests.get(f"{served.base}/publishers/alice-pub", timeout=10).status_code == 404:
        r = requests.post(f"{served.base}/publishers", json={"id": "alice-pub", "name": "A"}, headers=auth, timeout=10)
        assert r.status_code == 201, r.text
    token = requests.post(f"{served.base}/publishers/alice-pub/tokens", json={"name": "ci"}, headers=auth, timeout=10)
    body = {
        "personal_access_token": token.json()["token"],
        "node": {"id": node_id, "name": node_id},
        "node_version": {"version": "1.0.0"},
    }
    r = requests.post(f"{served.base}/publishers/alice-pub/nodes/{node_id}/versions", json=body, timeout=10)
    assert r.status_code == 201, r.text
    return dict(r.json())


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_the_stack_starts_by_removing_partial_uploads(served: Served) -> None:
    assert not list(served.stack.settings.data_dir.rglob(".upload-*"))


def test_a_chunked_upload_stores_the_whole_archive(served: Served) -> None:
    data = publish(served, "chunky")
    archive = clean_pack("chunky", "1.0.0")
    r = requests.put(data["signedUrl"], data=chunks(archive), headers={"Content-Type": "application/zip"}, timeout=30)
    assert r.status_code == 200, r.text
    install = requests.get(f"{served.base}/nodes/chunky/install", timeout=10).json()
    assert requests.get(install["downloadUrl"], timeout=10).content == archive


def test_a_chunked_upload_past_the_signed_bound_is_refused_and_leaves_nothing(
    serve: Callable[..., Served],
) -> None:
    served = serve(SCAN_MAX_ARCHIVE_BYTES=10_000)
    data = publish(served, "too-big")
    url = data["signedUrl"].replace("max=10000", "max=100000")  # the bound is signed: tampering is a 403
    assert requests.put(url, data=b"x", headers={"Content-Type": "application/zip"}, timeout=10).status_code == 403
    try:
        r = requests.put(
            data["signedUrl"], data=chunks(b"z" * 50_000), headers={"Content-Type": "application/zip"}, timeout=30
        )
        refused = r.status_code == 400 and b"EntityTooLarge" in r.content
    except requests.ConnectionError:  # the server may close before the client has sent every chunk
        refused = True
    assert refused
    version = requests.get(f"{served.base}/nodes/too-big/versions/1.0.0", timeout=10).json()
    assert version["status"] == "NodeVersionStatusPending"
    assert not list(served.stack.settings.data_dir.rglob(".upload-*"))


def raw(served: Served, request: bytes) -> tuple[int, dict[str, str], bytes]:
    port = int(served.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /nodes HTTP/1.1\r\nHost: x\r\n" + b"X-Big: y\r\n" * 200 + b"\r\n", 431),
        (b"GET /a <script>alert(1)</script> HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ],
    ids=["uri-too-long", "too-many-headers", "bad-request-line"],
)
def test_the_servers_own_errors_are_json(served: Served, request_bytes: bytes, status: int) -> None:
    code, headers, body = raw(served, request_bytes)
    assert code == status and headers["content-type"] == "application/json"
    assert b"<" not in body and set(json.loads(body)) == {"error", "message"}


def test_the_access_log_never_shows_a_signature(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    data = publish(served, "logged")
    signature = data["signedUrl"].split("sig=")[1]
    requests.put(data["signedUrl"], data=b"PK", headers={"Content-Type": "application/zip"}, timeout=10)
    requests.get(f"{served.base}/nodes?token=secret-value&page=1", timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("sig=REDACTED" in line for line in lines), lines
    assert any("page=1" in line and "token=REDACTED" in line for line in lines), lines
    assert not any(signature in line or "secret-value" in line for line in lines)


def test_fifty_concurrent_edits_all_succeed(served: Served) -> None:
    """Each edit commits, relays its event and runs the in-process indexer: no request may wait on a connection
    another one holds (the pool stalled for 30 s and answered 500 here)."""
    auth = served.token("alice")
    assert requests.post(f"{served.base}/publishers", json={"id": "busy", "name": "B"}, headers=auth, timeout=10).ok
    start = threading.Barrier(50)

    def edit(i: int) -> int:
        start.wait(timeout=30)
        body = {"description": f"edit {i}"}
        return requests.put(f"{served.base}/publishers/busy", json=body, headers=auth, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(edit, range(50)))
    assert codes == [200] * 50, sorted(set(codes))
