"""Background runs log one line each (a scheduled job over HTTP, a CloudEvent delivery); traces are off unless a
tracer is given, and then each request is a span in the caller's trace, named in the request's line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework
import pytest

from shared.bootstrap import Container
from shared.observe.requests import observed_event
from shared.observe.tracing import NoTracing
from tests.observe.conftest import Captured
from tests.support import RegistryClient

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"


def test_a_scheduled_job_logs_its_run_and_answers_its_request_id(container: Container, json_log: Captured) -> None:
    app = functions_framework.create_app("registry_outbox_sweep", str(ROOT / "functions/registry/main.py"), "http")
    r = app.test_client().post("/", headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/7;o=1"})
    assert r.status_code == 200
    line = json_log.one_request()
    assert line["function"] == "registry-outbox-sweep" and line["httpRequest"]["status"] == 200
    assert line["requestId"] == r.headers["X-Comfy-Request-Id"]
    assert line["logging.googleapis.com/trace"].endswith(f"/traces/{TRACE_ID}")


def test_a_job_that_fails_answers_json_with_its_request_id(container: Container, json_log: Captured) -> None:
    app = functions_framework.create_app("indexer_reindex", str(ROOT / "functions/indexer/main.py"), "http")
    r = app.test_client().post("/?mode=nonsense")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_mode"
    line = json_log.one_request()
    assert line["function"] == "indexer-reindex" and line["severity"] == "WARNING"
    assert line["requestId"] == r.headers["X-Comfy-Request-Id"]


class Event(dict[str, Any]):
    """A CloudEvent as functions-framework hands it over: its attributes by key."""


def test_an_event_delivery_logs_one_line_in_its_trace(json_log: Captured) -> None:
    seen: list[str] = []

    @observed_event("indexer")
    def deliver(event: Any) -> None:
        seen.append(event["id"])

    deliver(
        Event(
            id="ev-1",
            type="google.cloud.pubsub.topic.v1.messagePublished",
            source="//pubsub",
            subject="s",
            traceparent=f"00-{TRACE_ID}-{SPAN_ID}-01",
        )
    )
    line = json_log.one_request()
    assert seen == ["ev-1"]
    assert line["severity"] == "INFO" and line["function"] == "indexer" and line["requestId"] == "ev-1"
    assert line["event"]["type"] == "google.cloud.pubsub.topic.v1.messagePublished" and line["outcome"] == "done"
    assert line["logging.googleapis.com/trace"].endswith(f"/traces/{TRACE_ID}")


def test_an_event_that_fails_is_logged_and_raised_again(json_log: Captured) -> None:
    @observed_event("scanner")
    def deliver(event: Any) -> None:
        raise RuntimeError("could not read the archive")

    with pytest.raises(RuntimeError):
        deliver(Event(id="ev-2", type="google.cloud.storage.object.v1.finalized"))
    line = json_log.one_request()
    assert line["severity"] == "ERROR" and line["outcome"] == "failed"
    assert "RuntimeError: could not read the archive" in line["message"]


def test_traces_are_off_unless_configured(container: Container) -> None:
    assert container.settings.trace_exporter == "off"
    assert isinstance(container.tracer, NoTracing)


def test_a_request_is_a_span_in_the_callers_trace(api: RegistryClient, json_log: Captured) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from shared.adapters.otel_tracing import OtelTracer

    exported = InMemorySpanExporter()
    api.use(tracer=OtelTracer(exported, batch=False))
    r = api.client.get("/nodes?page=1", headers={"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01"})
    assert r.status_code == 200
    (span,) = exported.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None and f"{span.parent.span_id:016x}" == SPAN_ID
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 200
    line = json_log.one_request()
    assert line["logging.googleapis.com/trace"].endswith(f"/traces/{TRACE_ID}")
    assert line["logging.googleapis.com/spanId"] == f"{span.context.span_id:016x}"


def test_a_request_without_a_trace_is_logged_in_the_spans_own(api: RegistryClient, json_log: Captured) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from shared.adapters.otel_tracing import OtelTracer

    exported = InMemorySpanExporter()
    api.use(tracer=OtelTracer(exported, batch=False))
    api.client.get("/no/such/route")
    (span,) = exported.get_finished_spans()
    line = json_log.one_request()
    assert line["logging.googleapis.com/trace"].endswith(f"/traces/{span.context.trace_id:032x}")
