"""The EventPublisher port delivered in the calling thread, for the local stack and tests.

`publish` hands the message to each subscriber of its topic, in subscription order, before
it returns, and lets a subscriber's exception through: the publish then counts as failed
and the outbox keeps the row, as if Pub/Sub had refused the message. Only fully delivered
messages are recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple


class Message(NamedTuple):
    topic: str
    data: bytes
    attributes: Mapping[str, str]


Subscriber = Callable[[Message], None]


def short_topic(topic: str) -> str:
    """`registry-events` for `registry-events` and `projects/p/topics/registry-events`
    alike, so a subscriber matches whichever spelling the publisher used."""
    prefix, sep, name = topic.rpartition("/topics/")
    if sep and prefix.startswith("projects/") and name:
        return name
    return topic


class InProcessPublisher:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._delivered: list[Message] = []
        # Guards the two collections only; subscribers run outside it, so one may publish
        # in turn (the scanner does) and a slow one does not hold up other threads.
        self._lock = threading.Lock()

    def subscribe(self, topic: str, fn: Subscriber) -> Callable[[], None]:
        """Call `fn(message)` for every later message on `topic`; returns a function
        that undoes it."""
        key = short_topic(topic)
        with self._lock:
            self._subscribers.setdefault(key, []).append(fn)

        def unsubscribe() -> None:
            with self._lock:
                subscribers = self._subscribers.get(key, [])
                if fn in subscribers:
                    subscribers.remove(fn)

        return unsubscribe

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        # The Pub/Sub client's type rules, so the local stack fails where production would.
        if not isinstance(data, bytes):
            raise TypeError("message data must be bytes")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
            raise TypeError("message attributes must map str to str")
        # A read-only copy: every subscriber sees the message as it was published.
        message = Message(topic, data, MappingProxyType(dict(attributes)))
        with self._lock:
            subscribers = list(self._subscribers.get(short_topic(topic), ()))
        for fn in subscribers:
            fn(message)
        with self._lock:
            self._delivered.append(message)

    @property
    def delivered(self) -> list[Message]:
        """A copy of the messages published so far, in the order delivery finished."""
        with self._lock:
            return list(self._delivered)

    def messages(self, topic: str) -> list[Message]:
        key = short_topic(topic)
        return [m for m in self.delivered if short_topic(m.topic) == key]

    def clear(self) -> None:
        with self._lock:
            self._delivered.clear()
