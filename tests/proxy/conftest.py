"""The gateway's fixtures: the fake partners on loopback, and the functions served with a container whose
PARTNER_BASE_URLS and PARTNER_CREDENTIALS point at them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.fake_partners import CREDENTIALS, FakePartners
from local.server import make
from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.bootstrap import bootstrap, set_container
from tests.conftest import make_settings
from tests.proxy.support import ProxyClient
from tests.support import Gateway


@pytest.fixture
def fakes() -> Iterator[FakePartners]:
    with FakePartners.running() as partners:
        yield partners


def gateway_settings(fakes: FakePartners, **overrides: object) -> dict[str, object]:
    """What plugs the fake partners in, with `overrides` over it (a test's `indirect` parameters)."""
    return {
        "PARTNER_BASE_URLS": fakes.base_urls(),
        "PARTNER_CREDENTIALS": dict(CREDENTIALS),
        "PROXY_RETRY_MAX_WAIT_SECONDS": 0.05,
        "PROXY_TIMEOUT_CAP_SECONDS": 10,
        # Generous partner-node limits, so only the tests of those limits meet them (they set their own ladder).
        "PROXY_LIMIT_LADDER": [[0, 100, 100_000_000]],
        **overrides,
    }


@pytest.fixture
def proxy(
    database_url: str, tmp_path: Path, fakes: FakePartners, registry_app: Gateway, request: pytest.FixtureRequest
) -> Iterator[ProxyClient]:
    overrides = getattr(request, "param", {})
    settings = make_settings(database_url, tmp_path / "data", **gateway_settings(fakes, **overrides))
    c = bootstrap(settings, publisher=InProcessPublisher())
    set_container(c)
    try:
        yield ProxyClient(registry_app.test_client(), c, fakes)
    finally:
        set_container(None)
        c.engine.dispose()


@pytest.fixture
def served(proxy: ProxyClient, registry_app: Gateway) -> Iterator[str]:
    """The functions on a loopback port (real HTTP, threads), with the `proxy` fixture's container."""
    server = make("127.0.0.1", 0, registry_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
