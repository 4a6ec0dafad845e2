"""Use-case tests: the rules of each area called directly, on the fakes of tests/fakes.py (billing's:
tests/fakes_billing.py). No database, no HTTP: each test runs in milliseconds (the two-database suites keep the SQL,
the wire and the concurrency)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from shared.bootstrap import Container, bootstrap
from shared.settings import Settings
from tests.conftest import make_settings
from tests.fakes import FakeBlobs, FakeTally, FakeUnitOfWork, Store
from tests.fakes_billing import BillingStore, FakeBillingUnitOfWork, FakeMeter, FakePayments, FakeTasks


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def uow(store: Store) -> Callable[[], FakeUnitOfWork]:
    """A new unit of work over the test's store, as the Container's factory gives one per use case."""
    return lambda: FakeUnitOfWork(store)


@pytest.fixture
def blobs() -> FakeBlobs:
    return FakeBlobs()


@pytest.fixture
def tally() -> FakeTally:
    return FakeTally()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sqlite://", tmp_path / "unused", RATE_NEW_VERSION_BURST=5, RATE_NEW_NODE_BURST=3)


# -- billing ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def billing_store() -> BillingStore:
    return BillingStore()


@pytest.fixture
def payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
def meter() -> FakeMeter:
    return FakeMeter()


@pytest.fixture
def tasks() -> FakeTasks:
    return FakeTasks()


@pytest.fixture
def billing(
    settings: Settings,
    uow: Callable[[], FakeUnitOfWork],
    blobs: FakeBlobs,
    billing_store: BillingStore,
    payments: FakePayments,
    meter: FakeMeter,
    tasks: FakeTasks,
) -> Container:
    """The one bootstrap with billing's fakes in place of its adapters: `billing.billing_uow()` is a new fake unit of
    work over `billing_store` whose captures reach `tasks` on commit; customer storage is a FakeBlobs of its own."""
    return bootstrap(
        settings,
        uow=uow,
        blobs=blobs,
        billing_uow=lambda: FakeBillingUnitOfWork(billing_store, tasks),
        payments=payments,
        usage_meter=meter,
        tasks=tasks,
        customer_storage=FakeBlobs(),
    )
