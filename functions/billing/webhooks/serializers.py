"""What a webhook answers: that the delivery was received, and whether it was acted on (Stripe and Metronome only
look at the status; the body is for people reading delivery logs)."""

from __future__ import annotations

from typing import Any

from functions.billing.webhooks.usecases import Applied, MetronomeNotice


def stripe_applied(applied: Applied) -> dict[str, Any]:
    return {
        "received": True,
        "event_id": applied.event_id,
        "type": applied.type,
        "handled": applied.handled,
        "replayed": applied.replayed,
    }


def metronome_applied(notice: MetronomeNotice) -> dict[str, Any]:
    return {
        "received": True,
        "event_id": notice.id,
        "type": notice.type,
        "handled": notice.customer_id is not None,
        "replayed": notice.replayed,
    }
