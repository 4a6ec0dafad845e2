"""One call in progress: who calls, what, which partner and operation, and how it settles. The gateway's steps
(`calls`, `charged`, `reads`) pass this one value around instead of their many parts."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from functions.proxy.catalog.model import Operation, Partner, Role
from functions.proxy.gateway.usecases import replays
from functions.proxy.gateway.usecases.answers import CREDITS_USED, Answer, credits, decoded, passed_headers
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.gateway.usecases.metering import settle
from shared.billing.callers import Caller
from shared.errors import AppError, BadGateway
from shared.proxy.ports import PartnerAnswer, PartnerUnreachable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exchange:
    gw: Gateway
    caller: Caller
    call: Call
    partner: Partner
    op: Operation

    def read(self, answer: PartnerAnswer, hold_id: str | None) -> tuple[bytes, Any]:
        """The partner's whole body and its JSON value; a body cut short gives the hold and the key back (502)."""
        try:
            raw = answer.read(self.gw.limits.buffer_bytes)
        except PartnerUnreachable as exc:
            self.give_back(hold_id)
            log.warning("partner %s: %s", self.partner.name, exc)
            raise self.broke_off() from None
        return raw, decoded(raw, answer.headers)

    def broke_off(self) -> AppError:
        return BadGateway(f"The partner {self.partner.name!r} broke off its answer. You were not charged.")

    def give_back(self, hold_id: str | None, *, key_spent: bool = False) -> None:
        """The partner produced no answer: release the hold, and give a charged call's Idempotency-Key back (or,
        when the partner may have started the work before timing out, leave it spent so a retry cannot run it
        twice)."""
        charged = self.op.role in (Role.SYNC, Role.SUBMIT)
        if not hold_id and not charged:  # a poll or a helper call: nothing was held or claimed
            return
        with self.gw.uow() as u:
            if hold_id:
                settle(u, hold_id, None, {})
            if charged:
                if key_spent:
                    replays.spend(u, self.caller.customer_id, self.call)
                elif self.call.idempotency_key and self.call.method != "GET":
                    u.replays.release(self.caller.customer_id, self.call.idempotency_key)
            u.commit()

    def abandon(self, hold_id: str) -> None:
        """Something failed after the partner answered: give the hold back (if nothing settled it) and leave the
        Idempotency-Key spent, so a retry is told to use a new key instead of waiting on a call that is over."""
        try:
            with self.gw.uow() as u:
                settle(u, hold_id, None, {})
                replays.spend(u, self.caller.customer_id, self.call)
                u.commit()
        except Exception:  # the holds sweep releases the hold; an in-flight key is taken back when stale
            log.exception("could not give back hold %s", hold_id)

    def settled(self, reply: Answer, hold_id: str, cost: int | None, details: dict[str, Any]) -> Answer:
        """Capture `cost` (None: release the hold), say so on the reply, record it for replays: one transaction."""
        with self.gw.uow() as u:
            charged = settle(u, hold_id, cost, details)
            if cost is not None:
                reply.headers[CREDITS_USED] = credits(charged, self.gw.credits_per_usd)
            replays.record(u, self.caller.customer_id, self.call, reply, self.gw.limits.buffer_bytes)
            u.commit()
        return reply

    def reply(self, answer: PartnerAnswer, raw: bytes, value: Any) -> Answer:
        """The partner's answer as the caller gets it; a non-JSON 5xx page becomes our 502 with a message."""
        if answer.status >= 500 and value is None:
            message = f"The partner {self.partner.name!r} failed (HTTP {answer.status}). You were not charged."
            payload = json.dumps({"error": "partner_error", "message": message}).encode()
            return Answer(502, {"Content-Type": "application/json"}, payload)
        return Answer(answer.status, passed_headers(answer.headers), raw)
