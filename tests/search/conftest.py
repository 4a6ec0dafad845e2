"""Fixtures for the search tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# The Pub/Sub emulator and a fresh topic with a pull subscription, shared with the adapter tests.
from tests.adapters.test_pubsub import emulator, on_emulator, subscription  # noqa: F401
from tests.search.support import Catalog, FakeIndex
from tests.support import RegistryClient

INDEXER_MAIN = str(Path(__file__).resolve().parents[2] / "functions/indexer/main.py")


@pytest.fixture
def catalog(api: RegistryClient) -> Catalog:
    return Catalog(api)


@pytest.fixture(scope="session")
def indexer_app() -> Any:
    """The indexer's Pub/Sub entry point, as functions-framework serves a CloudEvent function."""
    import functions_framework

    return functions_framework.create_app("indexer", INDEXER_MAIN, "cloudevent")


@pytest.fixture(scope="session")
def reindex_app() -> Any:
    """The indexer's Cloud Scheduler entry point."""
    import functions_framework

    return functions_framework.create_app("indexer_reindex", INDEXER_MAIN, "http")


@pytest.fixture
def fake(api: RegistryClient) -> FakeIndex:
    """The container's search index replaced by one in memory."""
    index = FakeIndex()
    api.use(search=index)
    return index
