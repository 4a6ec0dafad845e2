"""The ledger under concurrent callers, on SQLite and PostgreSQL: holds never overdraw, a hold settles once, a key
posts once, however many threads race for it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from functions.billing.jobs.holds import expire_stale_holds
from shared.bootstrap import Container
from shared.db.types import utcnow
from shared.errors import Conflict, PaymentRequired
from shared.http.errors import status_of
from shared.ledger.accounts import EntryKind
from tests.billing.ledger_support import assert_balanced, balance, customer_with_credit, entries

THREADS = 32


def test_200_holds_of_one_against_50_exactly_50_succeed(container: Container) -> None:
    customer_with_credit(container, "alice", 50)

    def hold(i: int) -> int:
        try:
            with container.billing_uow() as uow:
                uow.ledger.place_hold(f"hold-{i}", "alice", 1)
                uow.commit()
        except PaymentRequired as exc:
            return status_of(exc)
        return 200

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(hold, range(200)))
    assert statuses.count(200) == 50
    assert statuses.count(402) == 150
    b = balance(container, "alice")
    assert (b.available, b.held) == (0, 50)
    assert entries(container, EntryKind.HOLD) == 50
    assert_balanced(container)


def test_a_hold_raced_by_captures_releases_and_the_sweep_settles_once(container: Container) -> None:
    customer_with_credit(container, "bob", 10_000)
    with container.billing_uow() as uow:
        hold = uow.ledger.place_hold("call", "bob", 1_000)
        uow.commit()

    def settle(i: int) -> str:
        if i % 3 == 2:
            later = utcnow() + timedelta(days=1)
            return f"swept {expire_stale_holds(container.billing_uow, timedelta(minutes=1), now=later).expired}"
        try:
            with container.billing_uow() as uow:
                if i % 3 == 0:
                    uow.ledger.capture(hold.id, 400)
                else:
                    uow.ledger.release(hold.id)
                uow.commit()
        except Conflict:
            return "lost"
        return "settled"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(settle, range(60)))
    settlements = entries(container, EntryKind.CAPTURE) + entries(container, EntryKind.RELEASE)
    settlements += entries(container, EntryKind.EXPIRY)
    assert settlements == 1, outcomes
    b = balance(container, "bob")
    assert b.held == 0 and b.available in (10_000, 9_600)
    assert_balanced(container)


def test_a_purchase_replayed_concurrently_credits_once(container: Container) -> None:
    customer_with_credit(container, "carol", 0)

    def credit(_: int) -> bool:
        with container.billing_uow() as uow:
            posted = uow.ledger.grant("purchase:checkout_session:cs_1", EntryKind.PURCHASE, "carol", 5_000_000)
            uow.commit()
            return posted.created

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        created = list(pool.map(credit, range(100)))
    assert created.count(True) == 1
    assert balance(container, "carol").available == 5_000_000
    assert_balanced(container)


def test_many_customers_hold_and_capture_at_once(container: Container) -> None:
    customers = [f"c{i}" for i in range(8)]
    credit = 500  # 30 pairs each would spend 600: the last holds of each customer are refused
    for c in customers:
        customer_with_credit(container, c, credit)

    def pair(i: int) -> int:
        who = customers[i % len(customers)]
        try:
            with container.billing_uow() as uow:
                hold = uow.ledger.place_hold(f"pair-{i}", who, 30)
                uow.commit()
        except PaymentRequired:
            return 0
        with container.billing_uow() as uow:
            uow.ledger.capture(hold.id, 20)
            uow.commit()
        return 20

    # Ten threads for the pool's ten connections: each pair is two transactions, and on SQLite's single writer a
    # thread queued for a connection behind 30 others could wait longer than the pool's timeout on a busy machine.
    with ThreadPoolExecutor(max_workers=10) as pool:
        charged = sum(pool.map(pair, range(240)))
    spent = sum(credit - balance(container, c).available for c in customers)
    assert spent == charged and charged < 240 * 20
    assert all(balance(container, c).held == 0 for c in customers)
    assert all(balance(container, c).available >= 0 for c in customers)
    assert_balanced(container)
