"""The database goes away at every statement of a capture in turn: the capture is all or nothing (the hold still
held and no posting, or the whole settlement), and a retry then completes it exactly once."""

from __future__ import annotations

from typing import cast

from shared.billing.uow import BillingUnitOfWork
from shared.bootstrap import Container
from shared.db.billing_models import CreditHold
from shared.errors import DatabaseUnavailable
from shared.ledger.accounts import EntryKind, HoldStatus
from shared.ledger.book import Ledger
from tests.billing.ledger_support import assert_balanced, balance, customer_with_credit, entries
from tests.faults.support import Outage, changes, snapshot

MAX_STATEMENTS = 100


def test_a_capture_loses_the_database_at_every_statement(container: Container, database_url: str) -> None:
    customer_with_credit(container, "alice", 10_000_000)
    failed = 0
    for n in range(1, MAX_STATEMENTS):
        with container.billing_uow() as uow:
            hold = uow.ledger.place_hold(f"call-{n}", "alice", 1_000)
            uow.commit()
        before = snapshot(container)
        with Outage(container.engine, database_url, n) as outage:
            try:
                with container.billing_uow() as uow:
                    uow.ledger.capture(hold.id, 600)
                    uow.commit()
            except DatabaseUnavailable:
                pass
        if not outage.fired:
            break
        with container.billing_uow() as uow:
            status = _hold(uow, hold.id).status
        if status == HoldStatus.HELD:
            assert not changes(before, snapshot(container)), f"statement {n} failed, yet something was written"
            failed += 1
        else:
            assert status == HoldStatus.CAPTURED  # the failure came after the commit
        with container.billing_uow() as uow:  # the caller's retry
            uow.ledger.capture(hold.id, 600)
            uow.commit()
        assert_balanced(container)
    else:
        raise AssertionError(f"a capture ran more than {MAX_STATEMENTS} statements")
    assert failed >= 5  # every statement up to the commit
    captures = entries(container, EntryKind.CAPTURE)
    assert captures == n
    assert balance(container, "alice").available == 10_000_000 - 600 * n
    assert balance(container, "alice").held == 0


def _hold(uow: BillingUnitOfWork, hold_id: str) -> CreditHold:
    """The hold's row as the database has it (only the SQL ledger reads holds back: no use case does)."""
    found = cast(Ledger, uow.ledger).hold(hold_id)
    assert found is not None
    return found
