"""CloudTasksQueue against the real gcloud-tasks-emulator (run from its own venv, bound to loopback): a task reaches
its HTTP target with its JSON body, a key queued twice is delivered once, and a capture's usage export travels from
the commit through Cloud Tasks to the billing-usage-export function and on to Metronome, once, on both databases.
Skipped, with the reason printed, where the emulator is not built (`make tasks-emulator`)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from shared.adapters.cloud_tasks import USAGE_EXPORT, CloudTasksQueue, task_id
from shared.billing.uow import SqlBillingUnitOfWork
from shared.bootstrap import Container
from shared.errors import Unavailable
from tests.billing.usage_support import (
    LOCATION,
    PROJECT,
    QUEUE,
    FakeMetronome,
    charge,
    export_row,
    funded,
    meter_for,
    serve_metronome,
    tasks_emulator,
    using,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with tasks_emulator() as host:
        yield host


@dataclass
class Target:
    """An HTTP target on loopback: it records each request, then lets `app` answer it (200 when there is none)."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        self.received.append((dict(request.headers), body))
        environ["wsgi.input"] = io.BytesIO(body)  # the app reads the body again
        environ["CONTENT_LENGTH"] = str(len(body))
        if self.app is None:
            return Response("ok")(environ, start_response)
        return self.app(environ, start_response)


@contextmanager
def serve(target: Target) -> Iterator[Target]:
    server = make_server("127.0.0.1", 0, target, threaded=True)
    target.url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def queue_to(emulator: str, url: str, **kw: Any) -> CloudTasksQueue:
    return CloudTasksQueue(PROJECT, LOCATION, {USAGE_EXPORT: (QUEUE, url)}, emulator_host=emulator, **kw)


def test_a_task_reaches_its_target_once_per_key(emulator: str) -> None:
    with serve(Target()) as target:
        queue = queue_to(emulator, target.url)
        try:
            queue.enqueue(USAGE_EXPORT, {"entry_id": "e-1"}, key="usage-e-1")
            queue.enqueue(USAGE_EXPORT, {"entry_id": "e-1"}, key="usage-e-1")  # AlreadyExists: success
            assert wait_until(lambda: len(target.received) >= 1)
            time.sleep(1.0)  # long enough for a second delivery to show, were there one
        finally:
            queue.close()
    (headers, body) = target.received[0]
    assert len(target.received) == 1
    assert json.loads(body) == {"entry_id": "e-1"}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Cloudtasks-Taskname"] == "usage-e-1"


def test_task_names_and_bodies() -> None:
    queue = CloudTasksQueue(
        PROJECT, LOCATION, {USAGE_EXPORT: (QUEUE, "https://export.example/")}, service_account="tasks@p.iam"
    )
    task = queue._task(queue.queue_path(USAGE_EXPORT), "https://export.example/", {"entry_id": "x"}, "usage-x", 30)
    assert task["name"] == f"projects/{PROJECT}/locations/{LOCATION}/queues/{QUEUE}/tasks/usage-x"
    assert task["http_request"]["oidc_token"] == {
        "service_account_email": "tasks@p.iam",
        "audience": "https://export.example/",
    }
    assert task["http_request"]["body"] == b'{"entry_id":"x"}'
    assert "schedule_time" in task
    assert task_id("usage-abc_1") == "usage-abc_1"
    assert task_id("purchase:cs/1") == task_id("purchase:cs/1") != task_id("purchase:cs/2")
    assert len(task_id("a" * 600)) == 64
    with pytest.raises(ValueError, match="no queue"):
        queue.enqueue("other-kind", {}, key="k")
    unset = CloudTasksQueue(PROJECT, LOCATION, {USAGE_EXPORT: (QUEUE, None)})
    with pytest.raises(Unavailable):
        unset.enqueue(USAGE_EXPORT, {}, key="k")


@pytest.fixture
def metronome() -> Iterator[FakeMetronome]:
    with serve_metronome() as fake:
        yield fake


def test_a_capture_is_exported_through_cloud_tasks_once(
    container: Container, emulator: str, metronome: FakeMetronome
) -> None:
    app = functions_framework.create_app("billing_usage_export", str(ROOT / "functions/billing/main.py"), "http")
    with serve(Target(app=app)) as target:
        queue = queue_to(emulator, target.url)
        c = using(
            container,
            tasks=queue,
            usage_meter=meter_for(metronome),
            billing_uow=lambda: SqlBillingUnitOfWork(container.sessions, queue),
        )
        try:
            funded(c, "alice", 10_000_000)
            entry_id = charge(c, "alice", 1_250_000, "call-1", model="kling")
            assert wait_until(lambda: export_row(c, entry_id)[0] == "sent")
            queue.enqueue(USAGE_EXPORT, {"entry_id": entry_id}, key=f"usage-{entry_id}")  # the same key again
            queue.enqueue(USAGE_EXPORT, {"entry_id": entry_id}, key=f"usage-{entry_id}-h1")  # a requeue
            assert wait_until(lambda: len(target.received) >= 2)
            time.sleep(1.0)
        finally:
            queue.close()
    assert [json.loads(body) for _, body in target.received] == [{"entry_id": entry_id}] * 2
    assert list(metronome.events) == [entry_id]
    assert len(metronome.ingest_calls()) == 1  # the requeue found it sent
    assert metronome.events[entry_id]["properties"]["amount_micros"] == "1250000"
