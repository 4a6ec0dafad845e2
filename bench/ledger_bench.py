"""The ledger's cost: hold-and-capture pairs per second against a bare one-row UPDATE transaction through the same
engine, in the same run (budget: at least 0.5).

`python -m bench.ledger_bench [--db postgresql sqlite] [--seconds 3] [--threads 1 8]`

A pair is two transactions, as the gateway runs them: place a hold (its row, the conditional UPDATE of `available`,
`held`, an entry and two postings), then capture it (the hold's status, both balances, an entry, three postings and
the usage-export row). The baseline is `UPDATE ledger_accounts SET balance = balance + 1 WHERE id = ...` committed
alone. With several threads each works on its own customer, as different callers do."""

from __future__ import annotations

import argparse
import itertools
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from shared.billing.uow import SqlBillingUnitOfWork
from shared.db import migrate
from shared.db.engine import Pool, make_engine, session_factory
from shared.ledger.accounts import EntryKind


class _NoTasks:
    def enqueue(self, kind: str, payload: object, *, key: str, delay_seconds: float = 0) -> None:
        return None


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'ledger.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    from tests.pg import Cluster

    cluster = Cluster()
    reason = cluster.unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    try:
        url = cluster.start()
        migrate.upgrade(url)
        yield url
    finally:
        cluster.stop()


def rate(step: Callable[[int, int], None], threads: int, seconds: float) -> float:
    """Steps per second over `seconds`, `threads` at once; `step(thread, i)`."""
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def work(t: int) -> None:
        for i in itertools.count():
            if time.perf_counter() >= stop:
                return
            step(t, i)
            done[t] += 1

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def measure(url: str, threads: int, seconds: float) -> tuple[float, float]:
    engine = make_engine(url, pool=Pool(size=threads, overflow=0, timeout=30))
    sessions = session_factory(engine)
    customers = [f"bench-{threads}-{t}" for t in range(threads)]
    with SqlBillingUnitOfWork(sessions, _NoTasks()) as uow:
        for c in customers:
            uow.customers.create_if_missing(c, {"email": None})
            uow.ledger.grant(f"bench-grant:{c}", EntryKind.PROMOTION, c, 10**15)
        uow.commit()

    def bare(t: int, i: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE ledger_accounts SET balance = balance + 1 WHERE id = :id"),
                {"id": f"customer:{customers[t]}:held"},
            )

    def pair(t: int, i: int) -> None:
        with SqlBillingUnitOfWork(sessions, _NoTasks()) as uow:
            hold = uow.ledger.place_hold(f"bench:{threads}:{t}:{i}:{time.monotonic_ns()}", customers[t], 1_000)
            uow.commit()
        with SqlBillingUnitOfWork(sessions, _NoTasks()) as uow:
            uow.ledger.capture(hold.id, 600)
            uow.commit()

    baseline = rate(bare, threads, seconds)
    pairs = rate(pair, threads, seconds)
    engine.dispose()
    return baseline, pairs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_bench")
    parser.add_argument("--db", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db:
            with database(kind, Path(tmp)) as url:
                for threads in args.threads:
                    baseline, pairs = measure(url, threads, args.seconds)
                    print(
                        f"{kind:10} threads {threads:2}: bare UPDATE {baseline:8.0f}/s  hold+capture {pairs:7.0f}/s"
                        f"  ratio {pairs / baseline:4.2f}  (budget 0.50)",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
