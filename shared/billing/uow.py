"""The money side's unit of work: customers, keys, the ledger, the trail and the usage export, committed together.
Charges captured in the transaction are handed to the task queue after commit (each as its own usage-export task);
one whose enqueue fails stays `queued` and the holds sweep queues it again.

`BillingUnitOfWork` is the Protocol the use cases take; `SqlBillingUnitOfWork` is the database's, and the use-case
tests run on tests/fakes_billing.FakeBillingUnitOfWork."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shared.billing.ports import TaskQueue
from shared.billing.repository_ports import (
    ApiKeysRepository,
    CreditLedger,
    CustomerEventsRepository,
    CustomersRepository,
    LedgerReportsRepository,
    UsageExportsRepository,
)
from shared.db.transient import end_unit_of_work
from shared.errors import Conflict
from shared.ledger.book import Ledger
from shared.repositories.billing import ApiKeys, CustomerEvents, Customers, LedgerReports, UsageExports
from shared.repositories.events import AppliedEvents
from shared.repositories.ports import AppliedEventsRepository

log = logging.getLogger(__name__)

USAGE_EXPORT = "usage-export"


def enqueue_export(tasks: TaskQueue, entry_id: str) -> None:
    tasks.enqueue(USAGE_EXPORT, {"entry_id": entry_id}, key=f"usage-{entry_id}")


class SqlBillingUnitOfWork:
    session: Session
    customers: Customers
    api_keys: ApiKeys
    ledger: Ledger
    trail: CustomerEvents
    exports: UsageExports
    reports: LedgerReports
    applied_events: AppliedEvents

    def __init__(self, sessions: sessionmaker[Session], tasks: TaskQueue) -> None:
        self._sessions = sessions
        self._tasks = tasks

    def __enter__(self) -> SqlBillingUnitOfWork:
        self.session = self._sessions()
        self.customers = Customers(self.session)
        self.api_keys = ApiKeys(self.session)
        self.ledger = Ledger(self.session)
        self.trail = CustomerEvents(self.session)
        self.exports = UsageExports(self.session)
        self.reports = LedgerReports(self.session)
        self.applied_events = AppliedEvents(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        end_unit_of_work(self.session, exc)

    def record(self, customer_id: str, type_: str, **details: Any) -> None:
        """Add to the customer's trail, in this transaction."""
        self.trail.add(customer_id, type_, details)

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise Conflict("The change conflicts with existing data.", code="conflict") from exc
        exports, self.ledger.exports = self.ledger.exports, []
        for entry_id in exports:
            try:
                enqueue_export(self._tasks, entry_id)
            except Exception:
                log.exception("could not queue the usage export of %s; the sweep will", entry_id)


class BillingUnitOfWork(Protocol):
    """One billing use case's transaction: customers, keys, the ledger, the trail and the usage export, committed
    together or not at all (leaving the `with` block without `commit()` rolls back). SqlBillingUnitOfWork is the
    database's; the use-case tests run on tests/fakes_billing.FakeBillingUnitOfWork."""

    @property
    def customers(self) -> CustomersRepository: ...
    @property
    def api_keys(self) -> ApiKeysRepository: ...
    @property
    def ledger(self) -> CreditLedger: ...
    @property
    def trail(self) -> CustomerEventsRepository: ...
    @property
    def exports(self) -> UsageExportsRepository: ...
    @property
    def reports(self) -> LedgerReportsRepository: ...
    @property
    def applied_events(self) -> AppliedEventsRepository: ...
    def __enter__(self) -> BillingUnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def record(self, customer_id: str, type_: str, **details: Any) -> None:
        """Add to the customer's trail, in this transaction."""
        ...

    def flush(self) -> None: ...

    def commit(self) -> None: ...
