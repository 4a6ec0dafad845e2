"""Usage on the fakes: recorded usage charged through a hold and its capture (refused when credit cannot cover it,
once per transaction id), the ledger's series by period and group, Metronome's dashboard, and its archiving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.billing.usage import usecases as usage
from shared.bootstrap import Container
from shared.errors import Conflict, InvalidInput, NotFound, PaymentRequired, Unavailable
from shared.ledger.book import Balance
from tests.fakes_billing import BillingStore, FakeMeter, FakeTasks
from tests.usecases.billing_world import balance, caller, funded, signed_up


def tracked(transaction_id: str, amount: int, **details: str) -> usage.Tracked:
    return usage.Tracked(transaction_id, amount, details=details)


def test_tracked_usage_is_charged_once_per_transaction(
    billing: Container, billing_store: BillingStore, tasks: FakeTasks
) -> None:
    funded(billing, "ann", 5_000_000)
    first = usage.track(billing.billing_uow(), "ann", tracked("t1", 2_000_000, model="flux"))
    again = usage.track(billing.billing_uow(), "ann", tracked("t1", 2_000_000, model="flux"))
    assert (first.charged, first.replayed, again.replayed, again.entry_id) == (2_000_000, False, True, first.entry_id)
    assert balance(billing, "ann") == Balance(3_000_000, 0)
    assert billing_store.trail_types("ann").count("usage_tracked") == 1
    assert tasks.keys() == [f"usage-{first.entry_id}"]  # its usage export, queued after the commit
    with pytest.raises(Conflict):
        usage.track(billing.billing_uow(), "ann", tracked("t1", 1_000_000))
    assert billing_store.audit().ok


def test_tracked_usage_never_overdraws_and_leaves_nothing_when_refused(
    billing: Container, billing_store: BillingStore, tasks: FakeTasks
) -> None:
    funded(billing, "ann", 1_000_000)
    entries = dict(billing_store.entries)
    with pytest.raises(PaymentRequired):
        usage.track(billing.billing_uow(), "ann", tracked("t1", 1_000_001))
    assert balance(billing, "ann") == Balance(1_000_000, 0)
    assert billing_store.entries == entries and billing_store.holds == {} and tasks.queued == []
    with pytest.raises(NotFound):
        usage.track(billing.billing_uow(), "nobody", tracked("t2", 1))
    signed_up(billing, "bob")  # no credit at all
    with pytest.raises(PaymentRequired):
        usage.track(billing.billing_uow(), "bob", tracked("t3", 1))


def test_the_series_sums_charges_by_period_and_group(billing: Container) -> None:
    ann = funded(billing, "ann", 10_000_000)
    usage.track(billing.billing_uow(), "ann", tracked("a", 1_000_000, model="flux"))
    usage.track(billing.billing_uow(), "ann", tracked("b", 3_000_000, model="veo"))
    usage.track(billing.billing_uow(), "ann", tracked("c", 500_000, product="api"))
    series = usage.timeseries(billing.billing_uow(), ann, usage.SeriesQuery(granularity="day"))
    assert series.breakdown == [("veo", 3_000_000), ("flux", 1_000_000), ("api", 500_000)]
    assert series.total == 4_500_000 and series.balance == Balance(5_500_000, 0)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert {(p.start, p.end) for p in series.periods} == {(today, today + timedelta(days=1))}
    by_product = usage.timeseries(billing.billing_uow(), ann, usage.SeriesQuery(group_by="product"))
    assert dict(by_product.breakdown) == {"other": 4_000_000, "api": 500_000}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (usage.SeriesQuery(group_by="colour"), "invalid_group_by"),
        (usage.SeriesQuery(granularity="week"), "invalid_granularity"),
        (usage.SeriesQuery(months=25), "invalid_months"),
        (usage.SeriesQuery(granularity="hour", months=2), "range_too_long"),
        (usage.SeriesQuery(starting_on=datetime(2030, 1, 1, tzinfo=UTC)), "invalid_range"),
    ],
)
def test_a_series_query_is_checked(billing: Container, query: usage.SeriesQuery, code: str) -> None:
    ann = signed_up(billing, "ann")
    with pytest.raises(InvalidInput) as refused:
        usage.timeseries(billing.billing_uow(), ann, query, now=datetime(2025, 6, 1, tzinfo=UTC))
    assert refused.value.code == code


def test_the_dashboard_is_metronomes_where_it_knows_the_customer(billing: Container, meter: FakeMeter) -> None:
    ann, bob = signed_up(billing, "ann"), signed_up(billing, "bob")
    meter.known.add("ann")
    assert (
        usage.dashboard(billing.billing_uow(), meter, ann, "invoices", {}, "/ledger")
        == "https://metronome.test/invoices/ann"
    )
    assert usage.dashboard(billing.billing_uow(), meter, bob, "usage", {}, "/ledger") == "/ledger"
    meter.configured = False
    assert usage.dashboard(billing.billing_uow(), meter, ann, "usage", {}, "/ledger") == "/ledger"
    with pytest.raises(NotFound):
        usage.dashboard(billing.billing_uow(), meter, caller("nobody"), "usage", {}, "/ledger")


def test_archiving_needs_metronome_and_is_noted(
    billing: Container, meter: FakeMeter, billing_store: BillingStore
) -> None:
    signed_up(billing, "ann")
    signed_up(billing, "bob")
    meter.known.add("ann")
    assert usage.archive_metronome(billing.billing_uow(), meter, "ann") and meter.archived == ["ann"]
    assert not usage.archive_metronome(billing.billing_uow(), meter, "bob")  # Metronome has no record of bob
    noted = [(e.customer_id, e.details["archived"]) for e in billing_store.trail if e.type == "metronome_archived"]
    assert noted == [("ann", True), ("bob", False)]
    meter.configured = False
    with pytest.raises(Unavailable):
        usage.archive_metronome(billing.billing_uow(), meter, "ann")
    with pytest.raises(NotFound):
        usage.archive_metronome(billing.billing_uow(), meter, "nobody")
