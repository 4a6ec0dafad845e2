"""Use-case tests: the rules of each area called directly, on the fakes of tests/fakes.py. No database, no HTTP:
each test runs in milliseconds (the two-database suites keep the SQL, the wire and the concurrency)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from shared.settings import Settings
from tests.conftest import make_settings
from tests.fakes import FakeBlobs, FakeTally, FakeUnitOfWork, Store


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
