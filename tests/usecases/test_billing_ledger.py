"""The fake ledger keeps the SQL ledger's rules (tests/billing/test_ledger.py proves them on both databases), so the
use-case tests above can lean on it: entries once per key, holds refused without cover, captured at most what was
held, settled once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.errors import Conflict, InvalidInput, NotFound, PaymentRequired
from shared.ledger.accounts import EntryKind, HoldStatus
from shared.ledger.book import Balance
from tests.fakes_billing import BillingStore, FakeBillingUnitOfWork

Uow = Callable[[], FakeBillingUnitOfWork]


@pytest.fixture
def work(billing_store: BillingStore) -> Uow:
    return lambda: FakeBillingUnitOfWork(billing_store)


def credited(work: Uow, customer_id: str, micros: int) -> None:
    with work() as uow:
        uow.ledger.grant(f"grant:{customer_id}", EntryKind.PROMOTION, customer_id, micros)
        uow.commit()


def test_an_entry_is_written_once_per_key(work: Uow, billing_store: BillingStore) -> None:
    with work() as uow:
        first = uow.ledger.grant("k", EntryKind.PURCHASE, "ann", 1_000_000)
        again = uow.ledger.grant("k", EntryKind.PURCHASE, "ann", 1_000_000)
        assert first.created and not again.created and again.entry.id == first.entry.id
        with pytest.raises(ValueError):
            uow.ledger.grant("k2", EntryKind.PURCHASE, "ann", 0)
        with pytest.raises(ValueError):
            uow.ledger.take_back("k3", EntryKind.PURCHASE, "ann", 1)
        uow.commit()
    with work() as uow:
        assert uow.ledger.balance("ann") == Balance(1_000_000, 0)
    assert billing_store.audit().ok


def test_a_hold_needs_cover_and_its_key_names_one_hold(work: Uow) -> None:
    credited(work, "ann", 1_000_000)
    with work() as uow:
        with pytest.raises(PaymentRequired):
            uow.ledger.place_hold("h0", "ann", 1_000_001)
        with pytest.raises(PaymentRequired):
            uow.ledger.place_hold("h1", "bob", 1)  # no accounts at all
        with pytest.raises(InvalidInput):
            uow.ledger.place_hold("h2", "ann", -1)
        held = uow.ledger.place_hold("h3", "ann", 600_000)
        assert uow.ledger.place_hold("h3", "ann", 600_000).id == held.id
        with pytest.raises(Conflict):
            uow.ledger.place_hold("h3", "ann", 1)
        assert uow.ledger.balance("ann") == Balance(400_000, 600_000)


def test_a_capture_charges_at_most_the_hold_once(work: Uow, billing_store: BillingStore) -> None:
    credited(work, "ann", 1_000_000)
    with work() as uow:
        held = uow.ledger.place_hold("h", "ann", 400_000)
        settled = uow.ledger.capture(held.id, 900_000, details={"model": "flux"})
        assert settled.captured == 400_000 and settled.entry is not None
        assert settled.entry.details == {"model": "flux", "requested": 900_000}
        again = uow.ledger.capture(held.id, 1)
        assert again.replayed and again.captured == 400_000 and again.entry == settled.entry
        with pytest.raises(Conflict):
            uow.ledger.release(held.id)
        with pytest.raises(InvalidInput):
            uow.ledger.capture(held.id, -1)
        with pytest.raises(NotFound):
            uow.ledger.capture("no-such-hold", 1)
        assert uow.ledger.balance("ann") == Balance(600_000, 0)
        assert uow.ledger.exports == [settled.entry.id]
        uow.commit()
    assert billing_store.exports[settled.entry.id].amount == 400_000 and billing_store.audit().ok


def test_a_released_hold_gives_everything_back_and_cannot_be_captured(work: Uow, billing_store: BillingStore) -> None:
    credited(work, "ann", 1_000_000)
    with work() as uow:
        held = uow.ledger.place_hold("h", "ann", 300_000)
        assert uow.ledger.capture(uow.ledger.place_hold("z", "ann", 1).id, 0).entry is not None  # nothing charged
        assert uow.ledger.release(held.id).hold.status == HoldStatus.RELEASED
        assert uow.ledger.release(held.id).replayed
        with pytest.raises(Conflict, match="released"):
            uow.ledger.capture(held.id, 1)
        with pytest.raises(Conflict):
            uow.ledger.release(held.id, expired=True)
        assert uow.ledger.balance("ann") == Balance(1_000_000, 0) and uow.ledger.exports == []


def test_take_back_may_go_below_zero_and_nothing_stays_without_a_commit(work: Uow, billing_store: BillingStore) -> None:
    credited(work, "ann", 1_000_000)
    with work() as uow:
        uow.ledger.take_back("r", EntryKind.REFUND, "ann", 3_000_000)
        uow.record("ann", "credit_refunded")
        assert uow.ledger.balance("ann").available == -2_000_000
    with work() as uow:  # the block above never committed
        assert uow.ledger.balance("ann").available == 1_000_000
    assert billing_store.trail == [] and "r" not in billing_store.entries
