"""Decoding the registry's events as Pub/Sub pushes them to their consumers (the indexer, the scanner's releases).

Standard library only: the entry module imports it on load, and its cold start must not pay for the database
layer or the search adapters."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    payload: Mapping[str, Any]


class MalformedMessage(ValueError):
    """A message that can never be applied: acknowledged and logged, never retried."""


def parse_event(data: bytes, attributes: Mapping[str, str]) -> Event:
    """Our outbox body (`{id, type, payload, created_at}`); the attributes win for the id and type."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested past Python's stack
        raise MalformedMessage(f"the message body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedMessage("the message body is not a JSON object")
    event_id = attributes.get("event_id") or body.get("id")
    event_type = attributes.get("event_type") or body.get("type")
    payload = body.get("payload", {})
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise MalformedMessage("the message names no event id or type")
    if not isinstance(payload, dict):
        raise MalformedMessage("the event payload is not a JSON object")
    return Event(event_id[:256], event_type, payload)


def push_message(envelope: Any) -> tuple[bytes, dict[str, str]]:
    """The data and attributes of a Pub/Sub push (`{"message": {"data": <base64>, "attributes": {...}}, ...}`)."""
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        raise MalformedMessage("not a Pub/Sub push: no message")
    try:
        data = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise MalformedMessage(f"the message data is not base64: {exc}") from exc
    raw = message.get("attributes") or {}
    if not isinstance(raw, dict):
        raise MalformedMessage("the message attributes are not an object")
    return data, {str(k): str(v) for k, v in raw.items()}


def event_or_none(data: bytes, attributes: Mapping[str, str], consumer: str) -> Event | None:
    """The event of one message, or None (logged) for one that can never be applied: it is acknowledged, not
    retried."""
    try:
        return parse_event(data, attributes)
    except MalformedMessage as exc:
        log.error("%s: dropping a malformed message (%s): %s", consumer, dict(attributes), exc)
        return None


def push_or_none(cloud_event: Any, consumer: str) -> tuple[bytes, dict[str, str]] | None:
    """The data and attributes of a Pub/Sub push CloudEvent, or None (logged) for a malformed push."""
    try:
        return push_message(cloud_event.data)
    except MalformedMessage as exc:
        log.error("%s: dropping a malformed push (%s): %s", consumer, cloud_event.get("id"), exc)
        return None
