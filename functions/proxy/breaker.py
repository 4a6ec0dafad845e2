"""A circuit breaker per partner, per instance: after N failures in a row (no answer, or a 5xx), calls to that partner
are refused for a while with 503 `service_unavailable` instead of piling onto it. After the pause the circuit is half
open: calls go through again, the first success closes it, and a failure opens it again at once."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.errors import Unavailable


class PartnerUnavailable(Unavailable):
    error_type = "service_unavailable"


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0


class CircuitBreaker:
    def __init__(self, failures: int, open_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit, self._pause, self._clock = failures, open_seconds, clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def check(self, partner: str) -> None:
        with self._lock:
            state = self._states.get(partner)
            now = self._clock()
            if state and state.open_until > now:
                wait = max(1, math.ceil(state.open_until - now))
                raise PartnerUnavailable(
                    f"The partner {partner!r} is failing; calls are paused for {wait} s.",
                    retry_after=wait,
                    code="partner_unavailable",
                )

    def record(self, partner: str, ok: bool) -> None:
        with self._lock:
            state = self._states.setdefault(partner, _State())
            if ok:
                state.failures, state.open_until = 0, 0.0
                return
            state.failures += 1
            # A failure right after a pause (the circuit half open) opens it again at once.
            if state.failures >= self._limit or state.open_until:
                state.open_until = self._clock() + self._pause
                state.failures = 0
