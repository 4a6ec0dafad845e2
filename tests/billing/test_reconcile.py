"""The reconciliation, on both databases: a paid payment whose webhook never arrived is credited once however often
it runs; a wrong amount, a double, a stray purchase and unknown customers are reported and left alone; Metronome's
totals are compared per customer; the ledger's own audit is reported; one ERROR line per drift; and the report
through billing-reconcile and the local stack's job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from sqlalchemy import select, update
from werkzeug.test import Client

from functions.billing.jobs import export, reconcile
from local.stack import LocalStack
from shared.adapters.inprocess_tasks import InProcessTaskQueue
from shared.bootstrap import Container, set_container
from shared.db.billing_models import LedgerAccount, LedgerEntry, UsageExport
from shared.db.types import utcnow
from shared.ledger.accounts import EntryKind
from shared.ledger.book import Balance
from tests.billing.usage_support import (
    FakeMetronome,
    charge,
    deliver_exports,
    funded,
    meter_for,
    paid,
    serve_metronome,
    using,
)
from tests.conftest import make_settings
from tests.fakes_billing import FakePayments

ROOT = Path(__file__).resolve().parents[2]
USD = 1_000_000
HOUR = timedelta(hours=1)


@pytest.fixture
def metronome() -> Iterator[FakeMetronome]:
    with serve_metronome() as fake:
        yield fake


def customer(c: Container, customer_id: str) -> None:
    with c.billing_uow() as uow:
        uow.customers.create_if_missing(customer_id, {"email": f"{customer_id}@example.com"})
        uow.commit()


def purchase(c: Container, key: str, customer_id: str, micros: int, reference: str) -> str:
    with c.billing_uow() as uow:
        posted = uow.ledger.grant(key, EntryKind.PURCHASE, customer_id, micros, reference=reference)
        uow.commit()
        return posted.entry.id


def balance(c: Container, customer_id: str) -> Balance:
    with c.billing_uow() as uow:
        return uow.ledger.balance(customer_id)


def run(c: Container, payments: FakePayments | None, **kw: Any) -> dict[str, Any]:
    return reconcile.reconcile(c.billing_uow, payments, c.usage_meter, window_hours=48, **kw)


def drift_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and "drift" in r.getMessage()]


def test_a_payment_whose_webhook_never_arrived_is_credited_once(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    customer(container, "alice")
    stripe = FakePayments([paid("checkout_session", "cs_1", "alice", 10 * USD)])
    first = run(container, stripe)
    assert [(p["payment_id"], p["customer_id"], p["stripe_micros"]) for p in first["credited_missing"]] == [
        ("cs_1", "alice", 10 * USD)
    ]
    assert first["drifts"] == [] and first["ok"]
    second = run(container, stripe)
    assert second["credited_missing"] == [] and second["drifts"] == [] and second["ok"]
    assert balance(container, "alice").available == 10 * USD
    with container.sessions() as s:
        keys = s.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.kind == "purchase")).all()
    assert keys == ["purchase:checkout_session:cs_1"]
    assert drift_lines(caplog) == []
    assert first["checks"] == {
        "stripe": "ok",
        "metronome": "skipped: Metronome is not configured",
        "ledger": "ok",
    }


def test_mismatches_doubles_and_strays_are_reported_not_fixed(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    for who in ("bob", "carol"):
        customer(container, who)
    short = purchase(container, "purchase:checkout_session:cs_2", "bob", 4 * USD, "cs_2")
    first = purchase(container, "purchase:invoice:in_3", "carol", 2 * USD, "in_3")
    again = purchase(container, "purchase:manual:in_3-again", "carol", 2 * USD, "in_3")
    stray = purchase(container, "purchase:checkout_session:cs_ghost", "bob", 1 * USD, "cs_ghost")
    stripe = FakePayments(
        [
            paid("checkout_session", "cs_2", "bob", 5 * USD),
            paid("invoice", "in_3", "carol", 2 * USD),
            paid("checkout_session", "cs_4", "zed", 3 * USD),  # no such customer
            paid("invoice", "in_5", None, 1 * USD),  # Stripe does not say whose
        ]
    )
    before = (balance(container, "bob"), balance(container, "carol"))
    caplog.set_level(logging.ERROR)
    report = run(container, stripe)
    kinds = {d["kind"]: d for d in report["drifts"]}
    assert set(kinds) == {
        "amount_mismatch",
        "double_purchase",
        "purchase_without_payment",
        "payment_unknown_customer",
        "payment_without_customer",
    }
    assert kinds["amount_mismatch"]["entry_id"] == short
    assert (kinds["amount_mismatch"]["stripe_micros"], kinds["amount_mismatch"]["ledger_micros"]) == (5 * USD, 4 * USD)
    assert kinds["double_purchase"]["entry_ids"] == sorted([first, again])
    assert kinds["purchase_without_payment"]["entry_id"] == stray
    assert report["credited_missing"] == [] and not report["ok"]
    assert report["counts"]["drifts"] == 5
    assert (balance(container, "bob"), balance(container, "carol")) == before
    lines = drift_lines(caplog)
    assert len(lines) == 5
    assert all(any(kind in line for line in lines) for kind in kinds)
    assert run(container, stripe)["counts"]["drifts"] == 5  # still there tomorrow: nothing was "fixed"


def test_metronome_totals_are_compared_per_customer(
    container: Container, metronome: FakeMetronome, caplog: pytest.LogCaptureFixture
) -> None:
    deliver_exports(container)
    c = using(container, usage_meter=meter_for(metronome))
    for who in ("alice", "bob", "carol"):
        funded(c, who, 10 * USD)
    charge(c, "alice", 1_500_000, "a-1")
    charge(c, "alice", 500_000, "a-2")
    charge(c, "bob", 700_000, "b-1")
    metronome.failures = 1
    charge(c, "carol", 300_000, "c-1")  # its export failed: still queued
    metronome.extra_usage["bob"] = 250  # Metronome counts more than we charged
    caplog.set_level(logging.ERROR)
    report = run(c, None, now=utcnow() + timedelta(days=1))  # the window's whole days hold today
    assert report["checks"]["metronome"] == "ok" and report["checks"]["stripe"].startswith("skipped")
    drifts = {d["customer_id"]: d for d in report["drifts"]}
    assert set(drifts) == {"bob", "carol"}
    assert (drifts["bob"]["ledger_micros"], drifts["bob"]["metronome_micros"]) == (700_000, 700_250)
    assert (drifts["carol"]["ledger_micros"], drifts["carol"]["unsent_micros"]) == (300_000, 300_000)
    assert drifts["carol"]["metronome_micros"] == 0
    assert report["counts"]["customers_metered"] == 3
    assert len(drift_lines(caplog)) == 2
    assert export.requeue_unsent(c, now=utcnow() + timedelta(minutes=10)) == 1
    later = run(c, None, now=utcnow() + timedelta(days=1))
    assert [d["customer_id"] for d in later["drifts"]] == ["bob"]


def test_the_ledger_audit_is_part_of_the_report(container: Container, caplog: pytest.LogCaptureFixture) -> None:
    funded(container, "dave", 5 * USD)
    with container.sessions() as s:
        s.execute(update(LedgerAccount).where(LedgerAccount.id == "customer:dave:available").values(balance=1))
        s.commit()
    caplog.set_level(logging.ERROR)
    report = run(container, None)
    assert report["drifts"] == [
        {
            "kind": "balance_mismatch",
            "account_id": "customer:dave:available",
            "balance_micros": 1,
            "postings_micros": 5 * USD,
        }
    ]
    assert len(drift_lines(caplog)) == 1


def test_a_stripe_failure_is_reported_and_the_rest_still_runs(container: Container) -> None:
    class Down(FakePayments):
        def paid_payments(self, since: Any, until: Any) -> Any:
            raise ConnectionError("stripe is down")

    report = run(container, Down())
    assert report["checks"]["stripe"] == "error: ConnectionError"
    assert report["checks"]["ledger"] == "ok" and not report["ok"]


def test_billing_reconcile_answers_the_report(container: Container) -> None:
    customer(container, "erin")
    using(container, payments=FakePayments([paid("invoice", "in_9", "erin", 7 * USD)]))
    app = functions_framework.create_app("billing_reconcile", str(ROOT / "functions/billing/main.py"), "http")
    r = Client(app).post("/")
    assert r.status_code == 200
    body = r.get_json()
    assert body["window"]["hours"] == 48
    assert [p["payment_id"] for p in body["credited_missing"]] == ["in_9"]
    assert Client(app).post("/").get_json()["credited_missing"] == []


def test_the_local_stack_runs_exports_and_the_reconciliation(
    database_url: str, tmp_path: Path, metronome: FakeMetronome
) -> None:
    settings = make_settings(database_url, tmp_path / "data")
    stack = LocalStack(settings, migrate_db=False, usage_meter=meter_for(metronome))
    try:
        funded(stack.container, "frank", 5 * USD)
        entry_id = charge(stack.container, "frank", 250_000, "call-1")
        assert list(metronome.events) == [entry_id]
        r = Client(stack).post("/_local/jobs/reconcile")
        assert r.status_code == 200
        assert r.get_json()["ok"] is True
        assert "reconcile" in stack.on_demand and "holds-sweep" not in stack.on_demand
        swept = Client(stack).post("/_local/jobs/holds-sweep")
        assert swept.status_code == 200 and swept.get_json()["requeued_exports"] == 0
    finally:
        stack.stop()
        set_container(None)


def test_billing_holds_sweep_requeues_lost_exports(container: Container) -> None:
    funded(container, "gina", 5 * USD)
    entry_id = charge(container, "gina", 1_000, "call-1")  # nothing subscribed: its task is lost
    with container.sessions() as s:
        s.execute(update(UsageExport).where(UsageExport.entry_id == entry_id).values(created_at=utcnow() - HOUR))
        s.commit()
    app = functions_framework.create_app("billing_holds_sweep", str(ROOT / "functions/billing/main.py"), "http")
    body = Client(app).post("/").get_json()
    assert body["requeued_exports"] == 1
    tasks = container.tasks
    assert isinstance(tasks, InProcessTaskQueue)
    assert tasks.enqueued[-1][1].startswith(f"usage-{entry_id}-h")
