"""Billing's jobs on the fakes: the holds sweep expires stale holds and queues lost exports again; the usage export
sends, skips or fails (and stays queued); the reconciliation credits a missing payment once and reports drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from functions.billing.jobs import export, reconcile
from functions.billing.jobs.holds import expire_stale_holds, sweep
from functions.billing.usage import usecases as usage
from shared.adapters.unconfigured import PaymentsNotConfigured
from shared.billing.ports import Payment
from shared.bootstrap import Container
from shared.db.types import utcnow
from shared.errors import InvalidInput, NotFound
from shared.ledger.accounts import EntryKind
from shared.ledger.book import Balance
from tests.fakes_billing import BillingStore, FakeMeter, FakePayments, FakeTasks
from tests.usecases.billing_world import balance, funded, signed_up


def charge(c: Container, uid: str, micros: int, transaction_id: str) -> str:
    entry_id = usage.track(
        c.billing_uow(), uid, usage.Tracked(transaction_id, micros, details={"model": "flux"})
    ).entry_id
    assert entry_id is not None
    return entry_id


def hold(c: Container, uid: str, micros: int, key: str) -> str:
    with c.billing_uow() as uow:
        held = uow.ledger.place_hold(key, uid, micros)
        uow.commit()
    return held.id


# -- the holds sweep ------------------------------------------------------------------------------------------------
def test_the_sweep_expires_only_holds_older_than_the_limit(billing: Container, billing_store: BillingStore) -> None:
    funded(billing, "ann", 3_000_000)
    stale, settled = hold(billing, "ann", 1_000_000, "call-1"), hold(billing, "ann", 500_000, "call-2")
    with billing.billing_uow() as uow:
        uow.ledger.capture(settled, 200_000)
        uow.commit()
    assert expire_stale_holds(billing.billing_uow, timedelta(minutes=60)).expired == 0  # not old yet
    later = utcnow() + timedelta(hours=2)
    result = expire_stale_holds(billing.billing_uow, timedelta(minutes=60), now=later)
    assert (result.expired, result.expired_micros, result.skipped) == (1, 1_000_000, 0)
    assert billing_store.holds[stale].status == "expired" and balance(billing, "ann") == Balance(2_800_000, 0)
    assert expire_stale_holds(billing.billing_uow, timedelta(minutes=60), now=later).expired == 0
    assert billing_store.audit().ok


def test_an_export_whose_enqueue_failed_is_queued_again_by_the_sweep(billing: Container, tasks: FakeTasks) -> None:
    funded(billing, "ann", 3_000_000)
    tasks.failing = True
    entry_id = charge(billing, "ann", 1_000_000, "t1")  # the charge commits all the same
    tasks.failing = False
    assert tasks.queued == [] and balance(billing, "ann").available == 2_000_000
    assert sweep(billing)["requeued_exports"] == 0  # younger than REQUEUE_AFTER
    later = utcnow() + export.REQUEUE_AFTER + timedelta(seconds=1)
    assert export.requeue_unsent(billing, now=later) == 1
    (kind, payload, key) = tasks.queued[0]
    assert (kind, payload) == ("usage-export", {"entry_id": entry_id}) and key.startswith(f"usage-{entry_id}-h")


# -- the usage export -----------------------------------------------------------------------------------------------
def test_an_export_is_sent_once_with_the_entry_as_its_transaction(billing: Container, meter: FakeMeter) -> None:
    funded(billing, "ann", 3_000_000)
    entry_id = charge(billing, "ann", 1_000_000, "t1")
    assert export.run_task(billing, {"entry_id": entry_id}) == {"entry_id": entry_id, "status": "sent"}
    assert export.run_task(billing, {"entry_id": entry_id})["status"] == "already_sent"
    (record,) = meter.sent
    assert (record.transaction_id, record.customer_id, record.amount_micros) == (entry_id, "ann", 1_000_000)
    assert record.properties == {"model": "flux", "source": "admin"}


def test_a_failed_export_stays_queued_with_its_error(
    billing: Container, meter: FakeMeter, billing_store: BillingStore
) -> None:
    funded(billing, "ann", 3_000_000)
    entry_id = charge(billing, "ann", 1_000_000, "t1")
    meter.failing = RuntimeError("metronome said 500")
    with pytest.raises(export.ExportFailed):
        export.run_task(billing, {"entry_id": entry_id})
    row = billing_store.exports[entry_id]
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "RuntimeError: metronome said 500")
    meter.failing = None
    assert export.run_task(billing, {"entry_id": entry_id})["status"] == "sent"
    assert (billing_store.exports[entry_id].attempts, billing_store.exports[entry_id].sent_at is not None) == (2, True)


def test_without_metronome_an_export_is_skipped_for_good(billing: Container, meter: FakeMeter) -> None:
    funded(billing, "ann", 3_000_000)
    entry_id = charge(billing, "ann", 1_000_000, "t1")
    meter.configured = False
    assert export.run_task(billing, {"entry_id": entry_id})["status"] == "skipped"
    meter.configured = True
    assert export.run_task(billing, {"entry_id": entry_id})["status"] == "skipped" and meter.sent == []


@pytest.mark.parametrize("body", [{}, {"entry_id": 7}, {"entry_id": ""}, {"entry_id": "x" * 65}])
def test_a_task_body_that_can_never_succeed_is_refused(billing: Container, body: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        export.run_task(billing, body)


def test_an_export_of_no_entry_is_not_found(billing: Container) -> None:
    with pytest.raises(NotFound):
        export.run_task(billing, {"entry_id": "no-such-entry"})


def paid(payment_id: str, customer_id: str | None, micros: int) -> Payment:
    return Payment("checkout_session", payment_id, customer_id, micros, int(utcnow().timestamp()))


def test_the_reconciliation_credits_a_missing_payment_once(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    signed_up(billing, "ann")
    payments.paid = [paid("cs_1", "ann", 10_000_000)]
    report = reconcile.run(billing, now=utcnow() + timedelta(minutes=1))
    assert report["ok"] and [c["payment_id"] for c in report["credited_missing"]] == ["cs_1"]
    assert balance(billing, "ann").available == 10_000_000
    again = reconcile.run(billing, now=utcnow() + timedelta(minutes=1))
    assert again["ok"] and again["credited_missing"] == [] and balance(billing, "ann").available == 10_000_000
    assert billing_store.entries["purchase:checkout_session:cs_1"].details["source"] == "reconcile"


def test_the_reconciliation_reports_what_differs_and_fixes_nothing(
    billing: Container, payments: FakePayments, meter: FakeMeter, billing_store: BillingStore
) -> None:
    funded(billing, "ann", 10_000_000)
    with billing.billing_uow() as uow:  # a webhook credited cs_2 for less than was paid; in_9 was never paid
        uow.ledger.grant("purchase:checkout_session:cs_2", EntryKind.PURCHASE, "ann", 5_000_000, reference="cs_2")
        uow.ledger.grant("purchase:invoice:in_9", EntryKind.PURCHASE, "ann", 1_000_000, reference="in_9")
        uow.commit()
    charge(billing, "ann", 2_000_000, "t1")
    meter.metered = {"ann": 1_500_000}
    payments.paid = [paid("cs_2", "ann", 6_000_000), paid("cs_3", "nobody", 1_000_000), paid("cs_4", None, 1)]
    billing_store.accounts["customer:ann:held"] += 1  # a running balance that drifted from its postings
    report = reconcile.run(billing, now=utcnow() + timedelta(days=1))
    kinds = sorted(d["kind"] for d in report["drifts"])
    assert kinds == [
        "amount_mismatch",
        "balance_mismatch",
        "payment_unknown_customer",
        "payment_without_customer",
        "purchase_without_payment",
        "usage_mismatch",
    ]
    mismatch = next(d for d in report["drifts"] if d["kind"] == "usage_mismatch")
    assert (mismatch["ledger_micros"], mismatch["metronome_micros"], mismatch["unsent_micros"]) == (
        2_000_000,
        1_500_000,
        2_000_000,
    )
    assert not report["ok"] and report["credited_missing"] == []
    assert balance(billing, "ann").available == 10_000_000 + 5_000_000 + 1_000_000 - 2_000_000  # nothing fixed


def test_a_check_that_cannot_run_is_reported_and_the_rest_still_run(billing: Container, payments: FakePayments) -> None:
    payments.down = True
    report = reconcile.run(billing)
    assert report["checks"]["stripe"].startswith("error") and report["checks"]["ledger"] == "ok"
    assert not report["ok"]
    unconfigured = reconcile.run(replace(billing, payments=PaymentsNotConfigured()))
    assert unconfigured["checks"]["stripe"].startswith("skipped") and unconfigured["ok"]
