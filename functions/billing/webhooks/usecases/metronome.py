"""Metronome's notifications (`/webhook/metronome/zero-balance`): verified, then noted in the customer's trail once.

Metronome signs a notification with HMAC-SHA256, keyed by the webhook's secret, over the request's date header, a
newline and the raw body, and sends the hex digest in `Metronome-Webhook-Signature`. The date travels in `Date`
(Metronome's guide) or `X-Metronome-Date` (Metronome's SDKs); either verifies. A notification more than five minutes
from our clock is refused, so a captured one cannot be replayed later; one that verifies is applied once by its `id`.
The ledger is the meter of record here, so a zero balance in Metronome is noted, not acted on."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from shared.billing.repository_ports import CustomerFilters
from shared.billing.uow import BillingUnitOfWork
from shared.errors import InvalidInput, Unauthenticated, Unavailable

log = logging.getLogger(__name__)

METRONOME = "metronome"
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class MetronomeNotice:
    id: str
    type: str
    customer_id: str | None  # ours, when the notification names a customer we know
    replayed: bool = False


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def verify(body: bytes, dates: list[str | None], signature: str | None, secret: str | None, now: datetime) -> None:
    if not secret:
        raise Unavailable(
            "Metronome webhooks are not configured on this server (METRONOME_WEBHOOK_SECRET is unset).",
            code="webhooks_not_configured",
            retry_after=3600,
        )
    refused = Unauthenticated(
        "The Metronome-Webhook-Signature does not verify this notification.", code="invalid_signature"
    )
    if not signature:
        raise refused
    for date in dates:
        if not date:
            continue
        expected = hmac.new(secret.encode(), date.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature.strip().lower()):
            sent = _parse_date(date)
            if sent is None or abs((now - sent).total_seconds()) > TOLERANCE_SECONDS:
                raise Unauthenticated("The notification's date is missing or too far from now.", code="stale_signature")
            return
    raise refused


def _parsed(body: bytes) -> tuple[str, str, dict[str, Any]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The notification is not JSON.", code="malformed_json") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise InvalidInput("The notification needs a string id and type.", code="invalid_notification")
    properties = data.get("properties")
    if not data["id"] or len(data["id"]) > 200 or not isinstance(properties, dict):
        raise InvalidInput(
            "The notification needs an id (at most 200 characters) and properties.", code="invalid_notification"
        )
    return data["id"], data["type"][:64], properties


def _customer_id(uow: BillingUnitOfWork, metronome_id: str) -> str | None:
    """Metronome names its own customer id; ours is the customer whose `metronome_customer_id` it is (or, where
    Metronome was given our id as an ingest alias, that id itself)."""
    rows, _ = uow.customers.search(CustomerFilters(metronome_id=metronome_id), 1, 20)
    exact = [c.id for c in rows if c.metronome_customer_id == metronome_id]
    if exact:
        return exact[0]
    return metronome_id if uow.customers.get(metronome_id) is not None else None


def metronome_notice(
    uow: BillingUnitOfWork,
    body: bytes,
    dates: list[str | None],
    signature: str | None,
    secret: str | None,
    now: datetime | None = None,
) -> MetronomeNotice:
    verify(body, dates, signature, secret, now or datetime.now(UTC))
    notice_id, notice_type, properties = _parsed(body)
    metronome_id = properties.get("customer_id")
    with uow:
        if not uow.applied_events.first_time(METRONOME, notice_id):
            return MetronomeNotice(notice_id, notice_type, None, replayed=True)
        customer_id = _customer_id(uow, metronome_id) if isinstance(metronome_id, str) and metronome_id else None
        if customer_id is None:
            log.warning("metronome notification %s (%s) names no customer of ours", notice_id, notice_type)
        else:
            balance = properties.get("remaining_balance")
            uow.record(
                customer_id,
                "metronome_zero_balance",
                notification_id=notice_id,
                notification_type=notice_type,
                remaining_balance=None if balance is None else str(balance),
            )
        uow.commit()
    return MetronomeNotice(notice_id, notice_type, customer_id)
