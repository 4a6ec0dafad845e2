"""What the webhooks read from a delivery: the raw body (signatures are over its exact bytes, so it is parsed only
after it verifies) and the signature headers."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request

from shared.http import body

MAX_WEBHOOK_BYTES = 1_000_000


@dataclass(frozen=True)
class Delivery:
    payload: bytes
    signature: str | None
    dates: list[str | None]


def stripe_delivery(request: Request) -> Delivery:
    return Delivery(body.read(request, MAX_WEBHOOK_BYTES), request.headers.get("Stripe-Signature"), [])


def metronome_delivery(request: Request) -> Delivery:
    return Delivery(
        body.read(request, MAX_WEBHOOK_BYTES),
        request.headers.get("Metronome-Webhook-Signature"),
        [request.headers.get("Date"), request.headers.get("X-Metronome-Date")],
    )
