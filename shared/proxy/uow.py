"""The gateway's unit of work: the billing one (customers, keys, the ledger) plus its jobs, replays and counters,
committed together."""

from __future__ import annotations

from typing import Protocol

from shared.billing.uow import BillingUnitOfWork, SqlBillingUnitOfWork
from shared.proxy.limit_rows import LimitRows
from shared.proxy.repositories import Jobs, RateWindows, Replays


class SqlProxyUnitOfWork(SqlBillingUnitOfWork):
    jobs: Jobs
    replays: Replays
    rates: RateWindows
    limits: LimitRows

    def __enter__(self) -> SqlProxyUnitOfWork:
        super().__enter__()
        self.jobs = Jobs(self.session)
        self.replays = Replays(self.session)
        self.rates = RateWindows(self.session)
        self.limits = LimitRows(self.session)
        return self


class ProxyUnitOfWork(BillingUnitOfWork, Protocol):
    @property
    def jobs(self) -> Jobs: ...
    @property
    def replays(self) -> Replays: ...
    @property
    def rates(self) -> RateWindows: ...
    @property
    def limits(self) -> LimitRows: ...
    def __enter__(self) -> ProxyUnitOfWork: ...
