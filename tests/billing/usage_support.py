"""What the usage export, reconciliation and usage tests share: a loopback Metronome that checks what the SDK sends
and counts events as Metronome does (once per transaction id), the Cloud Tasks emulator run from its own venv, a
Stripe stand-in that lists paid payments, and the ledger steps that make charges."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.billing.jobs import export
from shared.adapters.inprocess_tasks import InProcessTaskQueue
from shared.adapters.metronome_usage import MetronomeUsage
from shared.billing.ports import Payment
from shared.billing.uow import USAGE_EXPORT
from shared.bootstrap import Container, get_container, set_container
from shared.ledger.accounts import EntryKind

TOKEN = "metronome-test-token"
METRIC_ID = "metric-credit-usage"
EVENT_TYPE = "comfy_api_credit_usage"
PROJECT, LOCATION, QUEUE = "demo-comfy-registry", "us-central1", "billing-usage-export"


# -- Metronome on loopback ------------------------------------------------------------------------------------------
def metronome_id(alias: str) -> str:
    return f"m-{alias}"


@dataclass
class FakeMetronome:
    """Metronome's ingest, usage, customer, archive and dashboard endpoints, as far as our adapter uses them. Every
    request must carry the bearer token; each ingested event is checked field by field."""

    url: str = ""
    requests: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body or query)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # transaction_id -> the first event
    failures: int = 0  # answer 500 to this many next ingest calls
    extra_usage: dict[str, float] = field(default_factory=dict)  # alias -> added to its total (a drift)
    archived: list[str] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # aliases Metronome has no customer for
    problems: list[str] = field(default_factory=list)  # what the checks found wrong in a request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ingest_calls(self) -> list[Any]:
        return [body for method, path, body in self.requests if path == "/v1/ingest"]

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path, body if method == "POST" else query))
            if (method, path) == ("POST", "/v1/ingest"):
                return self._ingest(body)
            if (method, path) == ("POST", "/v1/usage"):
                return 200, {"data": self._usage(body), "next_page": None}
            if (method, path) == ("GET", "/v1/customers"):
                return 200, {"data": self._customers(query), "next_page": None}
            if (method, path) == ("POST", "/v1/customers/archive"):
                self.archived.append(body["id"])
                return 200, {"data": {"id": body["id"]}}
            if (method, path) == ("POST", "/v1/dashboards/getEmbeddableUrl"):
                colors = ",".join(f"{c['name']}={c['value']}" for c in body.get("color_overrides", []))
                return 200, {
                    "data": {"url": f"https://dash.example/{body['customer_id']}/{body['dashboard']}?{colors}"}
                }
        return 404, {"message": f"no route {method} {path}"}

    def _ingest(self, body: Any) -> tuple[int, Any]:
        if self.failures > 0:
            self.failures -= 1
            return 500, {"message": "ingest is down"}
        for event in body:
            self._check_event(event)
            self.events.setdefault(event["transaction_id"], event)  # Metronome de-duplicates by transaction id
        return 200, None

    def _check_event(self, event: Mapping[str, Any]) -> None:
        wanted = {"transaction_id", "customer_id", "event_type", "timestamp", "properties"}
        if set(event) != wanted:
            self.problems.append(f"event fields {sorted(event)}")
        if event.get("event_type") != EVENT_TYPE:
            self.problems.append(f"event_type {event.get('event_type')}")
        try:
            stamp = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
            if stamp.tzinfo is None or not str(event["timestamp"]).endswith("Z"):
                self.problems.append(f"timestamp {event['timestamp']} is not RFC 3339 UTC")
        except (KeyError, ValueError):
            self.problems.append(f"timestamp {event.get('timestamp')}")
        amount = event.get("properties", {}).get("amount_micros")
        if not (isinstance(amount, str) and amount.isdigit()):
            self.problems.append(f"amount_micros {amount!r}")

    def _usage(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        start = datetime.fromisoformat(body["starting_on"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(body["ending_before"].replace("Z", "+00:00"))
        if body.get("window_size") != "NONE" or body.get("billable_metrics") != [{"id": METRIC_ID}]:
            self.problems.append(f"usage query {body}")
        sums: dict[str, float] = dict(self.extra_usage)
        for e in self.events.values():
            at = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
            if start <= at < end:
                sums[e["customer_id"]] = sums.get(e["customer_id"], 0.0) + float(e["properties"]["amount_micros"])
        return [
            {
                "billable_metric_id": METRIC_ID,
                "billable_metric_name": "Credit usage",
                "customer_id": metronome_id(alias),
                "start_timestamp": body["starting_on"],
                "end_timestamp": body["ending_before"],
                "value": value,
            }
            for alias, value in sums.items()
        ]

    def _customers(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        if "ingest_alias" in query:
            aliases = [a for a in query["ingest_alias"] if a not in self.unknown]
        else:
            # The SDK sends the list comma-separated in one parameter.
            ids = [i for value in query.get("customer_ids", []) for i in value.split(",") if i]
            aliases = [i.removeprefix("m-") for i in ids]
        now = "2026-01-01T00:00:00Z"
        return [
            {
                "id": metronome_id(a),
                "created_at": now,
                "updated_at": now,
                "custom_fields": {},
                "customer_config": {},
                "external_id": a,
                "ingest_aliases": [a],
                "name": a,
            }
            for a in aliases
        ]


def _handler(fake: FakeMetronome) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, body = 401, {"message": "bad token"}
            else:
                status, body = fake.answer(self.command, parts.path, parse_qs(parts.query), json.loads(raw or b"null"))
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler


@contextmanager
def serve_metronome() -> Iterator[FakeMetronome]:
    fake = FakeMetronome()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def meter_for(fake: FakeMetronome, **kw: Any) -> MetronomeUsage:
    """The real adapter aimed at the fake; no SDK retries, so a failure shows at once."""
    return MetronomeUsage(
        TOKEN, event_type=EVENT_TYPE, base_url=fake.url, billable_metric_id=METRIC_ID, max_retries=0, **kw
    )


def deliver_exports(c: Container) -> InProcessTaskQueue:
    """Subscribe the container's in-process queue to the usage export, as the local stack does; the export runs
    with whatever container the functions see when the task runs."""
    tasks = c.tasks
    assert isinstance(tasks, InProcessTaskQueue)

    def run(payload: Mapping[str, Any]) -> None:
        export.run_task(get_container(), payload)

    tasks.subscribe(USAGE_EXPORT, run)
    return tasks


def using(c: Container, **ports: Any) -> Container:
    """The container the functions see from now on: `c` with these ports."""
    new = replace(c, **ports)
    set_container(new)
    return new


# -- the ledger -----------------------------------------------------------------------------------------------------
def funded(c: Container, customer_id: str, micros: int) -> None:
    with c.billing_uow() as uow:
        uow.customers.create_if_missing(customer_id, {"email": f"{customer_id}@example.com"})
        uow.ledger.grant(f"promo:{customer_id}:{micros}", EntryKind.PROMOTION, customer_id, micros)
        uow.commit()


def charge(c: Container, customer_id: str, cost: int, key: str, **details: Any) -> str:
    """A hold of `cost` captured in full, committed (which queues its usage export); the capture entry's id."""
    with c.billing_uow() as uow:
        hold = uow.ledger.place_hold(key, customer_id, cost)
        settled = uow.ledger.capture(hold.id, cost, details=details)
        assert settled.entry is not None
        uow.commit()
        return settled.entry.id


def export_row(c: Container, entry_id: str) -> tuple[str, int, str]:
    with c.billing_uow() as uow:
        row = uow.exports.get(entry_id)
        assert row is not None
        return row.status, row.attempts, row.last_error


# -- Stripe's paid payments (the fake gateway itself is tests/fakes_billing.FakePayments) ----------------------
def paid(kind: str, object_id: str, customer_id: str | None, micros: int, at: datetime | None = None) -> Payment:
    created = int((at or datetime.now(UTC)).timestamp())
    return Payment(kind, object_id, customer_id, micros, created)  # type: ignore[arg-type]  # kind is the Literal


# -- the Cloud Tasks emulator ---------------------------------------------------------------------------------------
# Run with the emulator venv's python. The emulator binds every interface and queues a name twice; this binds it to
# loopback and makes a second task of one name ALREADY_EXISTS, as Cloud Tasks answers.
_LAUNCHER = """
import sys, grpc
from google.api_core.exceptions import AlreadyExists
from gcloud_tasks_emulator import server
from gcloud_tasks_emulator.__main__ import main

_make = grpc.server
def loopback_server(*args, **kwargs):
    made = _make(*args, **kwargs)
    add = made.add_insecure_port
    made.add_insecure_port = lambda address: add(address.replace("[::]", "127.0.0.1"))
    return made
grpc.server = loopback_server

_create, _names = server.QueueState.create_task, set()
def create_task(self, queue, task):
    if task.name:
        if task.name in _names:
            raise AlreadyExists(f"Task {task.name} already exists")
        _names.add(task.name)
    return _create(self, queue, task)
server.QueueState.create_task = create_task
sys.argv[0] = "gcloud-tasks-emulator"
main()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def queue_name() -> str:
    return f"projects/{PROJECT}/locations/{LOCATION}/queues/{QUEUE}"


@contextmanager
def tasks_emulator() -> Iterator[str]:
    """`host:port` of a gcloud-tasks-emulator with our queue; skipped (the reason printed) where it is not built."""
    binary = os.environ.get("TASKS_EMULATOR")
    if not binary or not Path(binary).exists():
        reason = f"TASKS_EMULATOR is {'unset' if not binary else f'missing ({binary})'}: run `make tasks-emulator`"
        print(f"\n[tests] Cloud Tasks emulator tests skipped: {reason}")
        pytest.skip(reason)
    python = Path(binary).parent / "python"
    port = free_port()
    command = [str(python), "-c", _LAUNCHER, "start", "--port", str(port), "-q", "-d", queue_name()]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            _wait_for_port(port, process, errors)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors.seek(0)
            raise RuntimeError(f"the emulator exited: {errors.read().decode(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the Cloud Tasks emulator did not start within 30 s")


def wait_until(condition: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
