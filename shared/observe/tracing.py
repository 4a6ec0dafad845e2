"""The tracing port: a span around each request or background run, a child of the caller's trace when the request
named one. `NoTracing` (locally and in tests) costs nothing; the OpenTelemetry adapter
(shared/adapters/otel_tracing.py, `TRACE_EXPORTER=cloud_trace`) sends spans to Cloud Trace."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from shared.observe.context import TraceParent
from shared.settings import Settings


@dataclass(frozen=True)
class SpanIds:
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    sampled: bool


class Tracer(Protocol):
    def span(
        self, name: str, parent: TraceParent | None, attributes: Mapping[str, str | int]
    ) -> AbstractContextManager[Span | None]: ...


class Span(Protocol):
    @property
    def ids(self) -> SpanIds: ...

    def finish(self, attributes: Mapping[str, str | int], error: bool) -> None: ...


class NoTracing:
    @contextmanager
    def span(self, name: str, parent: TraceParent | None, attributes: Mapping[str, str | int]) -> Iterator[Span | None]:
        yield None


def tracer_for(settings: Settings) -> Tracer:
    """The tracer TRACE_EXPORTER names; the OpenTelemetry SDK is imported only when it names one."""
    if settings.trace_exporter == "cloud_trace":
        from shared.adapters.otel_tracing import OtelTracer

        return OtelTracer.to_cloud_trace(settings.gcp_project, settings.trace_sample_ratio)
    return NoTracing()
