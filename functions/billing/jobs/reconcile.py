"""The daily reconciliation (billing-reconcile): the ledger against Stripe, against Metronome, and against itself.

Over the last RECONCILE_WINDOW_HOURS:
1. Stripe: every paid Checkout Session and invoice (`PaymentGateway.paid_payments`) must have exactly one purchase
   entry, under the key the webhook uses (`purchase:<checkout_session|invoice>:<id>`) or naming the Stripe id as its
   reference, for the same amount and customer. A payment with none is credited here, once, under that very key (a
   webhook arriving later, or a second run, posts nothing); everything else that differs is reported, never fixed:
   `amount_mismatch`, `customer_mismatch`, `double_purchase` (two entries for one payment), `purchase_without_payment`
   (a purchase entry of the window that Stripe does not list), `payment_without_customer`, `payment_unknown_customer`.
2. Metronome (when configured, METRONOME_BILLABLE_METRIC_ID naming the SUM of `amount_micros`): per customer, what
   the ledger charged in the whole UTC days of the window (exports `sent` or still `queued`) against Metronome's
   total: `usage_mismatch`, with what is still unsent.
3. The ledger itself (`shared.ledger.audit.check`): `ledger_not_zero`, `unbalanced_entry`, `balance_mismatch`.

The answer is a JSON report (see `Report.as_json`); each drift is also one ERROR log line `reconciliation drift
<kind>: <json>`, each credited payment one WARNING line, each check that could not run one ERROR line. Amounts are
integer micro-USD; no secret is ever in the report or the logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from shared import wire
from shared.billing.ports import Payment, PaymentGateway, UsageMeter
from shared.billing.uow import BillingUnitOfWork
from shared.db.types import utcnow
from shared.errors import AppError
from shared.ledger.accounts import EntryKind

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

MAX_LISTED = 200  # drifts of one kind listed in full; the count is always exact
SLACK = timedelta(hours=24)  # payments this much older than the window still match its entries


@dataclass(frozen=True)
class Purchase:
    entry_id: str
    key: str
    reference: str | None
    customer_id: str | None
    amount: int


@dataclass
class Report:
    since: datetime
    until: datetime
    checks: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    credited: list[dict[str, Any]] = field(default_factory=list)
    drifts: list[dict[str, Any]] = field(default_factory=list)
    _listed: dict[str, int] = field(default_factory=dict)

    def drift(self, kind: str, **facts: Any) -> None:
        self.counts[f"drift:{kind}"] = self.counts.get(f"drift:{kind}", 0) + 1
        if self._listed.get(kind, 0) >= MAX_LISTED:
            return
        self._listed[kind] = self._listed.get(kind, 0) + 1
        item = {"kind": kind, **facts}
        self.drifts.append(item)
        log.error("reconciliation drift %s: %s", kind, json.dumps(item, sort_keys=True, default=str))

    def failed(self, check: str, exc: Exception) -> None:
        message = getattr(exc, "message", None) or type(exc).__name__
        self.checks[check] = f"error: {message}"
        log.error("reconciliation check %s could not run: %s", check, message)

    def as_json(self) -> dict[str, Any]:
        hours = int((self.until - self.since).total_seconds() // 3600)
        drift_total = sum(v for k, v in self.counts.items() if k.startswith("drift:"))
        return {
            "window": {"since": wire.time(self.since), "until": wire.time(self.until), "hours": hours},
            "checks": self.checks,
            "counts": {**self.counts, "credited_missing": len(self.credited), "drifts": drift_total},
            "credited_missing": self.credited,
            "drifts": self.drifts,
            "ok": drift_total == 0 and all(not v.startswith("error") for v in self.checks.values()),
        }


def run(c: Container, *, now: datetime | None = None) -> dict[str, Any]:
    """The reconciliation with the container's ports and settings (billing-reconcile and the local job)."""
    from shared.adapters.unconfigured import PaymentsNotConfigured

    payments = None if isinstance(c.payments, PaymentsNotConfigured) else c.payments
    return reconcile(c.billing_uow, payments, c.usage_meter, window_hours=c.settings.reconcile_window_hours, now=now)


def reconcile(
    uow_factory: Callable[[], BillingUnitOfWork],
    payments: PaymentGateway | None,
    meter: UsageMeter,
    *,
    window_hours: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    until = now or utcnow()
    report = Report(until - timedelta(hours=window_hours), until)
    if payments is None:
        report.checks["stripe"] = "skipped: payments are not configured"
    else:
        _stripe(report, uow_factory, payments)
    _metronome(report, uow_factory, meter)
    _ledger(report, uow_factory)
    return report.as_json()


# -- 1. Stripe ------------------------------------------------------------------------------------------------------
def purchase_key(payment: Payment) -> str:
    return f"purchase:{payment.kind}:{payment.id}"


def _stripe(report: Report, uow_factory: Callable[[], BillingUnitOfWork], payments: PaymentGateway) -> None:
    try:
        paid = list(payments.paid_payments(report.since - SLACK, report.until))
    except Exception as exc:  # noqa: BLE001 - any failure of Stripe is reported, and the other checks still run
        report.failed("stripe", exc)
        return
    with uow_factory() as uow:
        known = _purchases(uow.reports.purchases_for([purchase_key(p) for p in paid], [p.id for p in paid]))
        in_window = _purchases(uow.reports.purchases_between(report.since, report.until))
    matched: set[str] = set()
    for payment in paid:
        entries = [e for e in known if e.key == purchase_key(payment) or e.reference == payment.id]
        matched.update(e.entry_id for e in entries)
        _check_payment(report, uow_factory, payment, entries)
    stray = [e for e in in_window if e.entry_id not in matched]
    for entry in stray:
        report.drift(
            "purchase_without_payment",
            entry_id=entry.entry_id,
            key=entry.key,
            reference=entry.reference,
            customer_id=entry.customer_id,
            ledger_micros=entry.amount,
        )
    report.counts.update(payments=len(paid), purchases_in_window=len(in_window))
    report.checks["stripe"] = "ok"


def _purchases(rows: Iterable[Any]) -> list[Purchase]:
    return [Purchase(e.id, e.idempotency_key, e.reference, e.customer_id, e.amount) for e in rows]


def _check_payment(
    report: Report, uow_factory: Callable[[], BillingUnitOfWork], payment: Payment, entries: list[Purchase]
) -> None:
    facts = {"payment_kind": payment.kind, "payment_id": payment.id, "stripe_micros": payment.amount_micros}
    if not entries:
        _credit_missing(report, uow_factory, payment)
    elif len(entries) > 1:
        ids = sorted(e.entry_id for e in entries)
        report.drift("double_purchase", **facts, entry_ids=ids, ledger_micros=[e.amount for e in entries])
    else:
        entry = entries[0]
        if entry.amount != payment.amount_micros:
            report.drift("amount_mismatch", **facts, entry_id=entry.entry_id, ledger_micros=entry.amount)
        if payment.customer_id and entry.customer_id != payment.customer_id:
            report.drift(
                "customer_mismatch",
                **facts,
                entry_id=entry.entry_id,
                stripe_customer=payment.customer_id,
                ledger_customer=entry.customer_id,
            )


def _credit_missing(report: Report, uow_factory: Callable[[], BillingUnitOfWork], payment: Payment) -> None:
    """A paid payment whose webhook never arrived: credited once, under the webhook's own key."""
    facts = {"payment_kind": payment.kind, "payment_id": payment.id, "stripe_micros": payment.amount_micros}
    if not payment.customer_id:
        report.drift("payment_without_customer", **facts)
        return
    with uow_factory() as uow:
        if uow.customers.get(payment.customer_id) is None:
            report.drift("payment_unknown_customer", **facts, customer_id=payment.customer_id)
            return
        posted = uow.ledger.grant(
            purchase_key(payment),
            EntryKind.PURCHASE,
            payment.customer_id,
            payment.amount_micros,
            reference=payment.id,
            details={"source": "reconcile", "stripe_object": payment.kind, "stripe_created": payment.created},
        )
        if posted.created:
            uow.record(
                payment.customer_id,
                "credit_purchased",
                amount_micros=payment.amount_micros,
                stripe_id=payment.id,
                source="reconcile",
            )
        uow.commit()
    if posted.created:  # else the webhook got there between our read and this write
        item = {**facts, "customer_id": payment.customer_id, "entry_id": posted.entry.id}
        report.credited.append(item)
        log.warning("reconciliation credited a payment whose webhook never arrived: %s", json.dumps(item))


# -- 2. Metronome ---------------------------------------------------------------------------------------------------
def metered_window(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The whole UTC days inside the window (Metronome aggregates between midnights); at least the last day."""
    end = datetime.combine(until.astimezone(UTC).date(), time(0), tzinfo=UTC)
    start = datetime.combine(since.astimezone(UTC).date(), time(0), tzinfo=UTC)
    if start < since:
        start += timedelta(days=1)
    return (min(start, end - timedelta(days=1)), end)


def _metronome(report: Report, uow_factory: Callable[[], BillingUnitOfWork], meter: UsageMeter) -> None:
    if not meter.configured:
        report.checks["metronome"] = "skipped: Metronome is not configured"
        return
    since, until = metered_window(report.since, report.until)
    try:
        theirs = meter.totals(since, until)
    except AppError as exc:
        if exc.code == "metronome_metric_not_configured":
            report.checks["metronome"] = f"skipped: {exc.message}"
        else:
            report.failed("metronome", exc)
        return
    except Exception as exc:  # noqa: BLE001 - as for Stripe
        report.failed("metronome", exc)
        return
    with uow_factory() as uow:
        ours = uow.reports.charged_by_customer(since, until)
    for customer_id in sorted(set(ours) | set(theirs)):
        statuses = ours.get(customer_id, {})
        ledger = statuses.get("sent", 0) + statuses.get("queued", 0)
        metered = theirs.get(customer_id, 0)
        if ledger != metered:
            report.drift(
                "usage_mismatch",
                customer_id=customer_id,
                since=wire.time(since),
                until=wire.time(until),
                ledger_micros=ledger,
                metronome_micros=metered,
                unsent_micros=statuses.get("queued", 0),
            )
    report.counts["customers_metered"] = len(set(ours) | set(theirs))
    report.checks["metronome"] = "ok"


# -- 3. the ledger --------------------------------------------------------------------------------------------------
def _ledger(report: Report, uow_factory: Callable[[], BillingUnitOfWork]) -> None:
    with uow_factory() as uow:
        result = uow.ledger.audit()
    if result.total != 0:
        report.drift("ledger_not_zero", total_micros=result.total)
    for entry_id in result.unbalanced_entries:
        report.drift("unbalanced_entry", entry_id=entry_id)
    for account_id, (balance, posted) in sorted(result.drifted_accounts.items()):
        report.drift("balance_mismatch", account_id=account_id, balance_micros=balance, postings_micros=posted)
    report.checks["ledger"] = "ok"
