"""Fixtures for the fault tests: the Pub/Sub emulator and a fresh topic with a pull subscription, shared with the
adapter tests (skipped, with the reason printed, where gcloud, java or the emulator component is missing)."""

from __future__ import annotations

from tests.adapters.test_pubsub import emulator, on_emulator, subscription

__all__ = ["emulator", "on_emulator", "subscription"]
