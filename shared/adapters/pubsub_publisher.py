"""The EventPublisher port on Google Cloud Pub/Sub.

google-cloud-pubsub (and gRPC behind it) is imported on first publish, never at module
import, so a function that never publishes does not pay for it on a cold start. The client
itself honours PUBSUB_EMULATOR_HOST: that is how the local stack and the tests reach the
emulator."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.api_core.retry import Retry

# google-cloud-pubsub ships no type information, so its client is Any here.
_Client = Any

_FULL_PATH = re.compile(r"^projects/[^/]+/topics/[^/]+$")
# PublisherClient.publish takes attributes as **kwargs beside these parameters: an
# attribute so named would be taken as the parameter (or clash with it), so we refuse it.
_RESERVED_ATTRIBUTES = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})


def topic_path(project: str, topic: str) -> str:
    """`projects/{project}/topics/{topic}` for a short name; a full path is kept as is."""
    if _FULL_PATH.match(topic):
        return topic
    if not topic or "/" in topic:
        raise ValueError(f"not a topic name or projects/<p>/topics/<t> path: {topic!r}")
    if not project:
        raise ValueError(f"a project is needed to resolve the topic name {topic!r}")
    return f"projects/{project}/topics/{topic}"


class PubSubPublisher:
    def __init__(self, project: str, *, timeout: float = 30.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.project = project
        self._timeout = timeout
        # The client and its retry policy, built together on first use.
        self._client: tuple[_Client, Retry] | None = None
        self._lock = threading.Lock()

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Publish one message and wait for the server's ack. Any failure raises, so the
        outbox keeps the row for its sweep."""
        clash = _RESERVED_ATTRIBUTES.intersection(attributes)
        if clash:
            raise ValueError(f"attribute names the Pub/Sub client reserves: {sorted(clash)}")
        path = topic_path(self.project, topic)
        client, retry = self._publisher()
        # Retries and each attempt are bounded by our timeout: the client's default keeps
        # retrying an unavailable service for 10 minutes, long after we have given up.
        future = client.publish(path, data, retry=retry, timeout=self._timeout, **attributes)
        future.result(timeout=self._timeout)

    def close(self) -> None:
        """Stop the client and close its channel (not while publishing); a later publish
        builds a new one."""
        with self._lock:
            built, self._client = self._client, None
        if built is not None:
            client = built[0]
            client.stop()
            client.transport.close()

    def _publisher(self) -> tuple[_Client, Retry]:
        built = self._client
        if built is not None:
            return built
        with self._lock:
            if self._client is None:
                from google.api_core import exceptions, retry
                from google.cloud import pubsub_v1

                # The retryable codes are the library's own defaults for Publish.
                policy = retry.Retry(
                    predicate=retry.if_exception_type(
                        exceptions.Aborted,
                        exceptions.Cancelled,
                        exceptions.DeadlineExceeded,
                        exceptions.InternalServerError,
                        exceptions.ResourceExhausted,
                        exceptions.ServiceUnavailable,
                        exceptions.Unknown,
                    ),
                    initial=0.1,
                    maximum=5.0,
                    multiplier=2.0,
                    timeout=self._timeout,
                )
                # We wait on every message, so batching could only add its 10 ms delay.
                client = pubsub_v1.PublisherClient(batch_settings=pubsub_v1.types.BatchSettings(max_messages=1))
                self._client = (client, policy)
            return self._client
