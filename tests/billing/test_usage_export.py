"""The usage export end to end, on both databases: a capture committed through the billing unit of work is queued
(in-process here, as locally), exported once to a loopback Metronome by the real adapter, left `queued` with its
error when Metronome fails and sent once by the retry, `skipped` without a token; and the billing-usage-export entry
point's answers (503 so that Cloud Tasks retries)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from werkzeug.test import Client

from functions.billing.jobs import export
from shared.adapters.inprocess_tasks import InProcessTaskQueue
from shared.billing.uow import USAGE_EXPORT
from shared.bootstrap import Container
from shared.db.types import utcnow
from tests.billing.usage_support import (
    FakeMetronome,
    charge,
    deliver_exports,
    export_row,
    funded,
    meter_for,
    serve_metronome,
    using,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def metronome() -> Iterator[FakeMetronome]:
    with serve_metronome() as fake:
        yield fake


@pytest.fixture
def queue(container: Container) -> InProcessTaskQueue:
    """The container's in-process queue, delivering usage exports to the use case as the local stack does."""
    return deliver_exports(container)


@pytest.fixture(scope="module")
def export_function() -> Client:
    app = functions_framework.create_app("billing_usage_export", str(ROOT / "functions/billing/main.py"), "http")
    return Client(app)


def test_a_capture_is_exported_once_with_the_entry_id(
    container: Container, queue: InProcessTaskQueue, metronome: FakeMetronome
) -> None:
    c = using(container, usage_meter=meter_for(metronome))
    funded(c, "alice", 10_000_000)
    entry_id = charge(c, "alice", 1_500_000, "call-1", model="flux-pro", endpoint="/proxy/bfl")
    assert queue.enqueued == [(USAGE_EXPORT, f"usage-{entry_id}")]
    assert list(metronome.events) == [entry_id]
    event = metronome.events[entry_id]
    assert event["customer_id"] == "alice"
    assert event["properties"] == {"model": "flux-pro", "endpoint": "/proxy/bfl", "amount_micros": "1500000"}
    assert metronome.problems == []
    assert export_row(c, entry_id) == ("sent", 1, "")
    # The task again (Cloud Tasks delivers at least once): nothing more is sent.
    assert export.run_task(c, {"entry_id": entry_id}) == {"entry_id": entry_id, "status": "already_sent"}
    assert len(metronome.ingest_calls()) == 1


def test_a_failing_metronome_leaves_the_row_queued_and_the_retry_sends_it_once(
    container: Container, queue: InProcessTaskQueue, metronome: FakeMetronome
) -> None:
    c = using(container, usage_meter=meter_for(metronome))
    funded(c, "bob", 10_000_000)
    metronome.failures = 1
    entry_id = charge(c, "bob", 2_000_000, "call-1")
    status, attempts, error = export_row(c, entry_id)
    assert (status, attempts) == ("queued", 1)
    assert "Metronome answered 500" in error
    assert metronome.events == {}
    # The sweep's requeue, a few minutes on: sent once.
    assert export.requeue_unsent(c, now=utcnow() + timedelta(minutes=10)) == 1
    assert export_row(c, entry_id) == ("sent", 2, "")
    assert list(metronome.events) == [entry_id]
    assert export.requeue_unsent(c, now=utcnow() + timedelta(minutes=10)) == 0
    assert len(metronome.ingest_calls()) == 2


def test_requeue_waits_a_few_minutes(container: Container, queue: InProcessTaskQueue) -> None:
    funded(container, "carol", 10_000_000)
    queue.subscribe(USAGE_EXPORT, lambda payload: None)  # the task is lost
    entry_id = charge(container, "carol", 1_000, "call-1")
    assert export.requeue_unsent(container) == 0  # too young: its own task may still run
    assert export.requeue_unsent(container, now=utcnow() + timedelta(minutes=6)) == 1
    hour = int((utcnow() + timedelta(minutes=6)).timestamp()) // 3600
    assert queue.enqueued[-1] == (USAGE_EXPORT, f"usage-{entry_id}-h{hour}")


def test_without_a_token_nothing_is_sent(container: Container, queue: InProcessTaskQueue) -> None:
    assert not container.usage_meter.configured
    funded(container, "dave", 10_000_000)
    entry_id = charge(container, "dave", 3_000, "call-1")
    assert export_row(container, entry_id) == ("skipped", 1, "")
    assert export.run_task(container, {"entry_id": entry_id})["status"] == "skipped"
    assert export_row(container, entry_id) == ("skipped", 1, "")


def test_a_capture_of_nothing_is_not_exported(container: Container, queue: InProcessTaskQueue) -> None:
    funded(container, "erin", 10_000_000)
    with container.billing_uow() as uow:
        hold = uow.ledger.place_hold("call-1", "erin", 5_000)
        uow.ledger.capture(hold.id, 0)
        uow.commit()
    assert queue.enqueued == []


def post(client: Client, body: Any) -> tuple[int, Any, dict[str, str]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post("/", data=data, content_type="application/json")
    return r.status_code, r.get_json(silent=True), dict(r.headers)


def test_the_entry_point_answers_503_until_sent(
    container: Container, export_function: Client, metronome: FakeMetronome
) -> None:
    c = using(container, usage_meter=meter_for(metronome))
    funded(c, "frank", 10_000_000)
    entry_id = charge(c, "frank", 4_000, "call-1")  # nothing subscribed: the task waits for the function
    metronome.failures = 1
    status, body, headers = post(export_function, {"entry_id": entry_id})
    assert status == 503 and body["error"] == "usage_export_failed" and "Retry-After" in headers
    status, body, _ = post(export_function, {"entry_id": entry_id})
    assert (status, body) == (200, {"entry_id": entry_id, "status": "sent"})
    assert list(metronome.events) == [entry_id]
    assert post(export_function, {"entry_id": entry_id})[1]["status"] == "already_sent"


def test_the_entry_point_refuses_bodies_that_cannot_work(container: Container, export_function: Client) -> None:
    assert post(export_function, b"not json")[0] == 400
    assert post(export_function, [1, 2])[0] == 400
    assert post(export_function, {"entry_id": 7})[0] == 400
    assert post(export_function, {"entry_id": "no-such-entry"})[0] == 404
