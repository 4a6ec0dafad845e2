"""The ledger's rules, on SQLite and PostgreSQL: balanced entries written once per key, holds that never overdraw,
captures of at most the held amount, releases and expiry, take-backs that may go below zero."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from functions.billing.jobs.holds import expire_stale_holds
from shared.billing.uow import BillingUnitOfWork
from shared.bootstrap import Container
from shared.db.billing_models import CreditHold
from shared.db.types import utcnow
from shared.errors import Conflict, InvalidInput, PaymentRequired
from shared.ledger.accounts import EntryKind, HoldStatus
from shared.ledger.book import Ledger
from tests.billing.ledger_support import assert_balanced, balance, customer_with_credit, entries


def test_a_grant_posted_twice_by_key_credits_once(container: Container) -> None:
    customer_with_credit(container, "alice", 0)
    for _ in range(3):
        with container.billing_uow() as uow:
            posted = uow.ledger.grant("purchase:cs_1", EntryKind.PURCHASE, "alice", 10_000_000, reference="cs_1")
            uow.commit()
    assert not posted.created
    assert balance(container, "alice").available == 10_000_000
    assert entries(container, EntryKind.PURCHASE) == 1
    assert_balanced(container)


def test_amounts_are_positive_integers(container: Container) -> None:
    customer_with_credit(container, "bob", 1_000_000)
    with container.billing_uow() as uow:
        for bad in (0, -5, 1.5, True):
            with pytest.raises(ValueError):
                uow.ledger.grant(f"bad:{bad}", EntryKind.PROMOTION, "bob", bad)  # type: ignore[arg-type]
            with pytest.raises(InvalidInput):
                uow.ledger.place_hold(f"bad:{bad}", "bob", bad)  # type: ignore[arg-type]


def test_a_hold_then_its_capture_charges_the_cost_and_returns_the_rest(container: Container) -> None:
    customer_with_credit(container, "carol", 5_000_000)
    with container.billing_uow() as uow:
        hold = uow.ledger.place_hold("call-1", "carol", 2_000_000, "openai")
        uow.commit()
    assert (balance(container, "carol").available, balance(container, "carol").held) == (3_000_000, 2_000_000)
    with container.billing_uow() as uow:
        settled = uow.ledger.capture(hold.id, 750_000)
        uow.commit()
    assert settled.captured == 750_000 and settled.hold.status == HoldStatus.CAPTURED
    assert (balance(container, "carol").available, balance(container, "carol").held) == (4_250_000, 0)
    with container.billing_uow() as uow:  # a retried capture charges nothing more
        again = uow.ledger.capture(hold.id, 750_000)
        uow.commit()
    assert again.replayed and again.captured == 750_000
    assert balance(container, "carol").available == 4_250_000
    with container.billing_uow() as uow, pytest.raises(Conflict):
        uow.ledger.release(hold.id)
    assert_balanced(container)


def test_a_capture_never_charges_more_than_was_held(container: Container) -> None:
    customer_with_credit(container, "dan", 1_000_000)
    with container.billing_uow() as uow:
        hold = uow.ledger.place_hold("call-2", "dan", 400_000)
        settled = uow.ledger.capture(hold.id, 900_000)
        uow.commit()
    assert settled.captured == 400_000
    assert settled.entry is not None and settled.entry.details["requested"] == 900_000
    assert balance(container, "dan").available == 600_000
    assert_balanced(container)


def test_a_hold_is_refused_when_credit_cannot_cover_it(container: Container) -> None:
    customer_with_credit(container, "eve", 1_000_000)
    with container.billing_uow() as uow, pytest.raises(PaymentRequired):
        uow.ledger.place_hold("call-3", "eve", 1_000_001)
    with container.billing_uow() as uow:
        uow.ledger.place_hold("call-4", "eve", 1_000_000)
        uow.commit()
    assert balance(container, "eve").available == 0
    assert entries(container, EntryKind.HOLD) == 1
    assert_balanced(container)


def test_the_same_hold_key_returns_the_first_hold(container: Container) -> None:
    customer_with_credit(container, "fay", 3_000_000)
    with container.billing_uow() as uow:
        first = uow.ledger.place_hold("idem-1", "fay", 1_000_000)
        uow.commit()
    with container.billing_uow() as uow:
        second = uow.ledger.place_hold("idem-1", "fay", 1_000_000)
        uow.commit()
    assert second.id == first.id
    assert balance(container, "fay").held == 1_000_000
    with container.billing_uow() as uow, pytest.raises(Conflict):
        uow.ledger.place_hold("idem-1", "fay", 2_000_000)


def test_release_gives_everything_back(container: Container) -> None:
    customer_with_credit(container, "gus", 2_000_000)
    with container.billing_uow() as uow:
        hold = uow.ledger.place_hold("call-5", "gus", 2_000_000)
        uow.commit()
    with container.billing_uow() as uow:
        uow.ledger.release(hold.id)
        uow.commit()
    assert (balance(container, "gus").available, balance(container, "gus").held) == (2_000_000, 0)
    with container.billing_uow() as uow, pytest.raises(Conflict):
        uow.ledger.capture(hold.id, 1)
    assert_balanced(container)


def test_the_sweep_expires_only_old_holds(container: Container) -> None:
    customer_with_credit(container, "hal", 3_000_000)
    with container.billing_uow() as uow:
        old = uow.ledger.place_hold("call-old", "hal", 1_000_000)
        fresh = uow.ledger.place_hold("call-new", "hal", 500_000)
        uow.commit()
    later = utcnow() + timedelta(minutes=61)
    with container.sessions() as s:  # the fresh hold was placed an hour after the old one
        from shared.db.billing_models import CreditHold

        row = s.get(CreditHold, fresh.id)
        assert row is not None
        row.created_at = later - timedelta(minutes=5)
        s.commit()
    result = expire_stale_holds(container.billing_uow, timedelta(minutes=60), now=later)
    assert (result.expired, result.expired_micros) == (1, 1_000_000)
    with container.billing_uow() as uow:
        assert _hold(uow, old.id).status == HoldStatus.EXPIRED
        assert _hold(uow, fresh.id).status == HoldStatus.HELD
    assert balance(container, "hal").available == 2_500_000
    assert expire_stale_holds(container.billing_uow, timedelta(minutes=60), now=later).expired == 0
    assert_balanced(container)


def test_a_refund_may_take_the_balance_below_zero(container: Container) -> None:
    customer_with_credit(container, "ivy", 1_000_000)
    with container.billing_uow() as uow:
        hold = uow.ledger.place_hold("call-6", "ivy", 800_000)
        uow.ledger.capture(hold.id, 800_000)
        uow.ledger.take_back("refund:re_1", EntryKind.REFUND, "ivy", 1_000_000, reference="re_1")
        uow.ledger.take_back("refund:re_1", EntryKind.REFUND, "ivy", 1_000_000, reference="re_1")
        uow.commit()
    assert balance(container, "ivy").available == -800_000
    with container.billing_uow() as uow, pytest.raises(PaymentRequired):
        uow.ledger.place_hold("call-7", "ivy", 1)
    assert_balanced(container)


def test_a_charging_capture_queues_its_usage_export(container: Container) -> None:
    customer_with_credit(container, "jon", 1_000_000)
    queued: list[tuple[str, str]] = []

    class Recorder:
        def enqueue(self, kind: str, payload: object, *, key: str, delay_seconds: float = 0) -> None:
            queued.append((kind, key))

    from shared.billing.uow import SqlBillingUnitOfWork

    def uow() -> SqlBillingUnitOfWork:
        return SqlBillingUnitOfWork(container.sessions, Recorder())

    with uow() as work:
        free = work.ledger.place_hold("call-8", "jon", 100)
        paid = work.ledger.place_hold("call-9", "jon", 100)
        work.commit()
    with uow() as work:
        work.ledger.capture(free.id, 0)
        settled = work.ledger.capture(paid.id, 60)
        assert queued == []  # nothing leaves before the commit
        work.commit()
    assert settled.entry is not None
    assert queued == [("usage-export", f"usage-{settled.entry.id}")]


def _hold(uow: BillingUnitOfWork, hold_id: str) -> CreditHold:
    """The hold's row as the database has it (only the SQL ledger reads holds back: no use case does)."""
    found = cast(Ledger, uow.ledger).hold(hold_id)
    assert found is not None
    return found
