"""Routing, errors and CORS at the function's entry point."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.bootstrap import bootstrap
from tests.conftest import make_settings
from tests.support import RegistryClient, client_of


def test_health(api: RegistryClient) -> None:
    r = api.get("/health")
    assert r.status_code == 200 and r.get_data(as_text=True) == "OK"


def test_openapi_is_served(api: RegistryClient) -> None:
    r = api.get("/openapi")
    assert r.status_code == 200 and r.get_json()["openapi"].startswith("3.")


def test_unknown_route_and_method(api: RegistryClient) -> None:
    r = api.get("/no/such/path")
    assert r.status_code == 404 and set(r.get_json()) == {"error", "message"}
    r = api.call("PATCH", "/nodes")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


@contextmanager
def cors(database_url: str, tmp_path: Path, registry_app: Any, origins: str) -> Iterator[RegistryClient]:
    """The registry function with CORS_ORIGINS set to `origins`."""
    c = bootstrap(make_settings(database_url, tmp_path / f"cors-{len(origins)}", CORS_ORIGINS=origins))
    with client_of(c, registry_app) as client:
        yield client


def test_cors_credentials_only_for_listed_origins(database_url: str, tmp_path: Path, registry_app: Any) -> None:
    with cors(database_url, tmp_path, registry_app, "https://registry.comfy.org, *") as api:
        _listed_and_wildcard(api)


def _listed_and_wildcard(api: RegistryClient) -> None:
    r = api.call(
        "OPTIONS",
        "/nodes",
        headers={"Origin": "https://registry.comfy.org", "Access-Control-Request-Headers": "authorization"},
    )
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://registry.comfy.org"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert r.headers["Access-Control-Allow-Headers"] == "authorization"
    # Any other page (ComfyUI's own, on a user's machine) may read, without credentials.
    r = api.get("/nodes", headers={"Origin": "https://evil.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers and "Origin" in r.headers["Vary"]


def test_cors_without_a_wildcard_answers_unlisted_origins_nothing(
    database_url: str, tmp_path: Path, registry_app: Any
) -> None:
    with cors(database_url, tmp_path, registry_app, "https://registry.comfy.org") as api:
        for method in ("GET", "OPTIONS"):
            r = api.call(method, "/nodes", headers={"Origin": "https://evil.example"})
            assert "Access-Control-Allow-Origin" not in r.headers
            assert "Access-Control-Allow-Credentials" not in r.headers
        r = api.get("/nodes", headers={"Origin": "https://registry.comfy.org/"})
        assert r.headers["Access-Control-Allow-Origin"] == "https://registry.comfy.org/"
    # A literal "*" origin is never taken for a listed one.
    with cors(database_url, tmp_path, registry_app, "*") as api:
        r = api.get("/nodes", headers={"Origin": "*"})
        assert r.headers["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in r.headers


def test_database_outage_is_503_with_retry_after(api: RegistryClient) -> None:
    from sqlalchemy.orm import sessionmaker

    from shared.db.engine import make_engine

    broken = make_engine("postgresql://nobody@127.0.0.1:1/none")
    c = bootstrap(api.container.settings, sessions=sessionmaker(broken))
    api.use(uow=c.uow, sessions=c.sessions, read_cache=c.read_cache)
    r = api.get("/nodes")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.get_json()["error"] == "unavailable"


def test_outbox_sweep_entry_point_sends_what_the_relay_could_not(api: RegistryClient) -> None:
    import functions_framework

    from tests.conftest import ROOT

    def down(message: object) -> None:
        raise ConnectionError("pubsub down")

    events = api.container.publisher
    unsubscribe = events.subscribe("registry-events", down)  # type: ignore[attr-defined]
    api.create_publisher("alice", "alice-pub")  # commits; relaying its event fails
    unsubscribe()
    sweep = functions_framework.create_app("registry_outbox_sweep", str(ROOT / "functions/registry/main.py"), "http")
    r = sweep.test_client().post("/")
    assert r.status_code == 200 and r.get_json() == {"sent": 1}
    assert sweep.test_client().post("/").get_json() == {"sent": 0}
    assert [m.attributes["event_type"] for m in events.delivered] == ["publisher.created"]  # type: ignore[attr-defined]
