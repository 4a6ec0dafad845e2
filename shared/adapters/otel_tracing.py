"""OpenTelemetry spans for the tracing port (shared/observe/tracing.py): one server span per request or background
run, a child of the span the load balancer (or any caller) named, exported to Cloud Trace in production and to any
exporter a test gives (the SDK's in-memory one). The SDK is imported when the first tracer is built."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from shared.observe.context import TraceParent
from shared.observe.tracing import Span, SpanIds


class OtelTracer:
    def __init__(self, exporter: Any, *, ratio: float = 1.0, batch: bool = True) -> None:
        """`batch=False` exports each span as it ends (tests); a parent's sampling decision is followed, and a
        trace with none is sampled at `ratio`."""
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        self.provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)
        self._tracer = self.provider.get_tracer("comfy-registry")

    @classmethod
    def to_cloud_trace(cls, project: str, ratio: float) -> OtelTracer:
        from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

        return cls(CloudTraceSpanExporter(project_id=project), ratio=ratio)

    @contextmanager
    def span(self, name: str, parent: TraceParent | None, attributes: Mapping[str, str | int]) -> Iterator[Span | None]:
        from opentelemetry import trace
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

        context = None
        if parent is not None and parent.span_id:
            remote = SpanContext(
                int(parent.trace_id, 16),
                int(parent.span_id, 16),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED if parent.sampled else TraceFlags.DEFAULT),
            )
            context = trace.set_span_in_context(NonRecordingSpan(remote))
        with self._tracer.start_as_current_span(
            name, context=context, kind=SpanKind.SERVER, attributes=dict(attributes), record_exception=True
        ) as span:
            yield _OtelSpan(span)


class _OtelSpan:
    def __init__(self, span: Any) -> None:
        self._span = span

    @property
    def ids(self) -> SpanIds:
        ctx = self._span.get_span_context()
        return SpanIds(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", bool(ctx.trace_flags.sampled))

    def finish(self, attributes: Mapping[str, str | int], error: bool) -> None:
        from opentelemetry.trace import Status, StatusCode

        self._span.set_attributes(dict(attributes))
        if error:
            self._span.set_status(Status(StatusCode.ERROR))
