"""`Ledger`: every write to the credit ledger, inside the caller's unit of work (its session; nothing commits here).
Its primitives (accounts, balances, entries once per key) are in `postings`, holds in `holds`; what is here moves
credit in and out: purchases, promotions, refunds and disputes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.ledger.accounts import AccountKind, EntryKind, customer_account, require_amount, system_account
from shared.ledger.holds import Holds, Settled
from shared.ledger.postings import AVAILABLE, Balance, Posted

__all__ = ["Balance", "Ledger", "Posted", "Settled"]


class Ledger(Holds):
    def grant(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str,
        amount: int,
        *,
        reference: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Posted:
        """Credit bought (`PURCHASE`, from payments clearing), given (`PROMOTION`) or won back (`DISPUTE_WON`)."""
        source = {
            EntryKind.PURCHASE: AccountKind.PAYMENTS_CLEARING,
            EntryKind.PROMOTION: AccountKind.PROMOTIONS,
            EntryKind.DISPUTE_WON: AccountKind.REFUNDS,
        }[kind]
        amount = require_amount(amount)
        self.open(customer_id)
        lines = {system_account(source): -amount, customer_account(customer_id, AVAILABLE): amount}
        return self.post(key, kind, customer_id, lines, reference=reference, details=details)

    def take_back(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str,
        amount: int,
        *,
        reference: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Posted:
        """A refund or a dispute: the credit leaves `available`, which may go below zero (the gateway then refuses
        every call until the customer is back above it)."""
        if kind not in (EntryKind.REFUND, EntryKind.DISPUTE):
            raise ValueError(f"not a take-back: {kind}")
        amount = require_amount(amount)
        self.open(customer_id)
        lines = {customer_account(customer_id, AVAILABLE): -amount, system_account(AccountKind.REFUNDS): amount}
        return self.post(key, kind, customer_id, lines, reference=reference, details=details)
