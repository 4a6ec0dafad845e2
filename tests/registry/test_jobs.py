"""Service-account (Google OIDC) authentication, and the scheduled endpoints that queue work as events."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from shared.auth import google_oidc
from shared.auth.google_oidc import ServiceAccountVerifier
from shared.bootstrap import bootstrap
from shared.errors import Forbidden, Unauthenticated, Unavailable
from shared.http.params import parse_duration
from tests.conftest import make_settings
from tests.registry.comfy_support import Catalog
from tests.registry.oidc_support import AUDIENCE, BUILDER, SCHEDULER, GoogleCerts, ServiceAuth, SigningKey
from tests.support import RegistryClient

OTHER_KEY = SigningKey.generate("test-key-1")  # the served key id, but not the served key


# -- the verifier on its own ----------------------------------------------------------------------------------
def test_verifier_returns_the_lowercased_email_of_an_allowed_account(google_certs: GoogleCerts) -> None:
    verifier = ServiceAccountVerifier(AUDIENCE, [f" {SCHEDULER.upper()} "], google_certs.certs_url)
    token = google_certs.mint(SCHEDULER.title(), audience=AUDIENCE)
    assert verifier.verify(f"Bearer {token}", "/security-scan") == SCHEDULER
    assert verifier.verify(f"bearer   {token}", "/security-scan") == SCHEDULER
    bare_issuer = google_certs.mint(SCHEDULER, issuer="accounts.google.com")  # Google uses both spellings
    assert verifier.verify(f"Bearer {bare_issuer}", "/security-scan") == SCHEDULER


def test_settings_configure_the_containers_verifier(google_certs: GoogleCerts, tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite://",
        tmp_path,
        SERVICE_AUDIENCE=AUDIENCE,
        SERVICE_ACCOUNTS=f" {BUILDER} , ,{SCHEDULER}",
        GOOGLE_CERTS_URL=google_certs.certs_url,
    )
    verifier = bootstrap(settings).service_verifier
    assert isinstance(verifier, ServiceAccountVerifier) and verifier.configured
    for email in (SCHEDULER, BUILDER):
        assert verifier.verify(f"Bearer {google_certs.mint(email)}", "/x") == email
    with pytest.raises(Forbidden):
        verifier.verify(f"Bearer {google_certs.mint('someone@example.com')}", "/x")
    unset = bootstrap(make_settings("sqlite://", tmp_path)).service_verifier
    assert isinstance(unset, ServiceAccountVerifier) and not unset.configured


def test_certificates_are_fetched_once_and_refetched_for_a_rotated_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with GoogleCerts() as google:
        verifier = ServiceAccountVerifier(AUDIENCE, [SCHEDULER], google.certs_url)
        for _ in range(3):
            verifier.verify(f"Bearer {google.mint(SCHEDULER)}", "/x")
        assert google.requests == 1
        rotated = google.add_key("test-key-2")
        new_token = google.mint(SCHEDULER, key=rotated)
        # An unknown key id right after a fetch does not fetch again: forged ids cannot force fetches.
        with pytest.raises(Unauthenticated):
            verifier.verify(f"Bearer {new_token}", "/x")
        assert google.requests == 1
        monkeypatch.setattr(google_oidc, "REFRESH_INTERVAL", 0.0)
        assert verifier.verify(f"Bearer {new_token}", "/x") == SCHEDULER
        assert google.requests == 2


def test_unreachable_certificates_are_a_retryable_503_not_a_401() -> None:
    with GoogleCerts() as google:
        token = google.mint(SCHEDULER)
        google.fail_with(500)
        with pytest.raises(Unavailable):
            ServiceAccountVerifier(AUDIENCE, [SCHEDULER], google.certs_url).verify(f"Bearer {token}", "/x")
        url = google.certs_url
    with pytest.raises(Unavailable):  # the server is gone: connection refused
        ServiceAccountVerifier(AUDIENCE, [SCHEDULER], url).verify(f"Bearer {token}", "/x")


# -- through an endpoint --------------------------------------------------------------------------------------
Mint = Callable[[ServiceAuth], str]
REJECTED: list[tuple[str, Mint | None, int, str]] = [
    ("missing header", None, 401, "missing_token"),
    ("not bearer", lambda s: f"Basic {s.token()}", 401, "invalid_token"),
    ("empty bearer", lambda s: "Bearer ", 401, "invalid_token"),
    ("not a jwt", lambda s: "Bearer not.a.token", 401, "invalid_token"),
    ("wrong audience", lambda s: f"Bearer {s.token(audience='https://elsewhere.example')}", 401, "invalid_token"),
    ("expired", lambda s: f"Bearer {s.token(issued_at=time.time() - 7200)}", 401, "invalid_token"),
    ("issued in the future", lambda s: f"Bearer {s.token(issued_at=time.time() + 600)}", 401, "invalid_token"),
    ("another key, same kid", lambda s: f"Bearer {s.token(key=OTHER_KEY)}", 401, "invalid_token"),
    ("unknown kid", lambda s: f"Bearer {s.token(kid='no-such-key')}", 401, "invalid_token"),
    ("wrong issuer", lambda s: f"Bearer {s.token(issuer='https://evil.example')}", 401, "invalid_token"),
    ("unverified email", lambda s: f"Bearer {s.token(email_verified=False)}", 403, "service_account_not_allowed"),
    (
        "email_verified 'false'",
        lambda s: f"Bearer {s.token(email_verified='false')}",
        403,
        "service_account_not_allowed",
    ),
    (
        "account not allowed",
        lambda s: f"Bearer {s.token('intruder@x.iam.gserviceaccount.com')}",
        403,
        "service_account_not_allowed",
    ),
]


@pytest.mark.parametrize(("mint", "status", "code"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_service_tokens_are_checked(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog, mint: Mint | None, status: int, code: str
) -> None:
    catalog.node("pack")
    catalog.version("pack", "1.0.0", age=timedelta(hours=2))
    headers = {"Authorization": mint(service)} if mint else {}
    r = api.get("/security-scan", headers=headers)
    assert (r.status_code, r.get_json()["error"]) == (status, code)
    assert catalog.events("version.scan_requested") == []


def test_people_cannot_call_service_endpoints(api: RegistryClient, service: ServiceAuth, catalog: Catalog) -> None:
    catalog.set_user("root", is_admin=True)
    for path, method in (
        ("/security-scan", api.get),
        ("/nodes/reindex", api.post),
        ("/comfy-nodes/backfill", api.post),
    ):
        assert method(path, as_="alice").status_code == 401
        assert method(path, as_="root", admin=True).status_code == 401
        assert method(path).status_code == 401
    assert catalog.events("index.reindex_requested") == []


def test_service_calls_are_refused_where_not_configured(api: RegistryClient, google_certs: GoogleCerts) -> None:
    r = api.get("/security-scan", headers={"Authorization": f"Bearer {google_certs.mint(SCHEDULER)}"})
    assert (r.status_code, r.get_json()["error"]) == (403, "service_auth_not_configured")


def test_certificate_outage_answers_503_with_retry_after(api: RegistryClient, service: ServiceAuth) -> None:
    headers = service.headers()
    service.google.fail_with(503)
    r = api.post("/nodes/reindex", headers=headers)
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"


# -- Go durations ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("90s", 90), ("30m", 1800), ("24h", 86400), ("1h30m", 5400), ("1.5h", 5400), ("300ms", 0.3),
     ("2h45m30.5s", 9930.5), ("1µs", 1e-6), (".5m", 30)],
)  # fmt: skip
def test_go_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "5", "-5m", "+5m", "1d", "m", "1h-5m", " 5m", "5m ", "1e3s", "99999999h"])
def test_bad_go_durations_are_refused(text: str) -> None:
    with pytest.raises(Exception, match="uration"):
        parse_duration(text)


# -- /security-scan -------------------------------------------------------------------------------------------
def test_security_scan_queues_old_pending_versions_oldest_first(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog
) -> None:
    catalog.node("pack")
    oldest = catalog.version("pack", "1.0.0", age=timedelta(hours=3))
    catalog.version("pack", "1.1.0", age=timedelta(hours=2))
    catalog.version("pack", "1.2.0", age=timedelta(minutes=10))  # too recent by default
    catalog.version("pack", "0.9.0", status="active", age=timedelta(days=1))
    catalog.version("pack", "0.8.0", status="flagged", age=timedelta(days=1))
    for status in ("banned", "deleted"):
        catalog.node(f"{status}-pack", status=status)
        catalog.version(f"{status}-pack", "1.0.0", age=timedelta(days=1))

    r = api.get("/security-scan", headers=service.headers())
    assert r.status_code == 200
    assert r.get_json() == {
        "requested": 2,
        "versions": [{"node_id": "pack", "version": "1.0.0"}, {"node_id": "pack", "version": "1.1.0"}],
    }
    events = catalog.events("version.scan_requested")
    assert events[0] == {
        "node_id": "pack",
        "version": "1.0.0",
        "version_id": oldest,
        "storage_path": "alice-pub/pack/1.0.0/upload/node.zip",
        "by": SCHEDULER,
    }

    r = api.get("/security-scan", headers=service.headers(), query={"minAge": "5m", "maxNodes": 3})
    assert [v["version"] for v in r.get_json()["versions"]] == ["1.0.0", "1.1.0", "1.2.0"]
    r = api.get("/security-scan", headers=service.headers(), query={"minAge": "1h30m", "maxNodes": 1})
    assert r.get_json()["versions"] == [{"node_id": "pack", "version": "1.0.0"}]
    assert len(catalog.events("version.scan_requested")) == 6


@pytest.mark.parametrize(
    "query",
    [{"minAge": "thirty minutes"}, {"minAge": "-30m"}, {"minAge": "30"}, {"maxNodes": 0}, {"maxNodes": 1001},
     {"maxNodes": "many"}],
)  # fmt: skip
def test_security_scan_refuses_bad_parameters(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog, query: dict[str, object]
) -> None:
    catalog.node("pack")
    catalog.version("pack", "1.0.0", age=timedelta(days=1))
    r = api.get("/security-scan", headers=service.headers(), query=query)
    assert r.status_code == 400
    assert catalog.events("version.scan_requested") == []


def test_security_scan_with_nothing_to_do(api: RegistryClient, service: ServiceAuth) -> None:
    r = api.get("/security-scan", headers=service.headers(BUILDER), query={"minAge": "0", "maxNodes": 1000})
    assert r.get_json() == {"requested": 0, "versions": []}


# -- /nodes/reindex -------------------------------------------------------------------------------------------
def test_reindex_queues_one_event_with_its_parameters(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog
) -> None:
    r = api.post("/nodes/reindex", headers=service.headers())
    assert r.status_code == 202
    assert r.get_json() == {"queued": True, "max_batch": None, "min_age_seconds": None}
    r = api.post("/nodes/reindex", headers=service.headers(), query={"max_batch": 500, "min_age": "24h"})
    assert r.get_json() == {"queued": True, "max_batch": 500, "min_age_seconds": 86400.0}
    assert catalog.events("index.reindex_requested") == [
        {"max_batch": None, "min_age_seconds": None, "by": SCHEDULER},
        {"max_batch": 500, "min_age_seconds": 86400.0, "by": SCHEDULER},
    ]


@pytest.mark.parametrize("query", [{"max_batch": 0}, {"max_batch": 10_001}, {"max_batch": "x"}, {"min_age": "1 day"}])
def test_reindex_refuses_bad_parameters(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog, query: dict[str, object]
) -> None:
    r = api.post("/nodes/reindex", headers=service.headers(), query=query)
    assert r.status_code == 400
    assert catalog.events("index.reindex_requested") == []


# -- /comfy-nodes/backfill ------------------------------------------------------------------------------------
def test_backfill_requests_extraction_of_versions_still_pending(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog
) -> None:
    catalog.node("pack")
    first = catalog.version("pack", "1.0.0", status="active", age=timedelta(days=3))
    catalog.version("pack", "1.1.0", age=timedelta(days=2))
    catalog.version("pack", "1.2.0", extract="success", age=timedelta(days=4))
    catalog.version("pack", "1.3.0", extract="failed", age=timedelta(days=4))
    catalog.version("pack", "0.1.0", status="deleted", age=timedelta(days=5))
    catalog.version("pack", "0.2.0", status="banned", age=timedelta(days=5))
    catalog.node("gone", status="deleted")
    catalog.version("gone", "1.0.0", age=timedelta(days=5))

    r = api.post("/comfy-nodes/backfill", headers=service.headers(BUILDER))
    assert r.status_code == 200
    assert r.get_json() == {
        "requested": 2,
        "versions": [{"node_id": "pack", "version": "1.0.0"}, {"node_id": "pack", "version": "1.1.0"}],
    }
    assert catalog.events("version.extract_requested")[0] == {
        "node_id": "pack",
        "version": "1.0.0",
        "version_id": first,
        "storage_path": "alice-pub/pack/1.0.0/upload/node.zip",
        "by": BUILDER,
    }
    r = api.post("/comfy-nodes/backfill", headers=service.headers(), query={"max_node": 1})
    assert r.get_json()["requested"] == 1

    # Once the extractor reports, the version leaves the queue.
    r = api.post("/nodes/pack/versions/1.0.0/comfy-nodes", headers=service.headers(BUILDER), json_body={"nodes": {}})
    assert r.status_code == 204
    r = api.post("/comfy-nodes/backfill", headers=service.headers())
    assert r.get_json()["versions"] == [{"node_id": "pack", "version": "1.1.0"}]


@pytest.mark.parametrize("max_node", [0, -1, 1001, "ten"])
def test_backfill_refuses_bad_parameters(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog, max_node: object
) -> None:
    catalog.node("pack")
    catalog.version("pack", "1.0.0")
    r = api.post("/comfy-nodes/backfill", headers=service.headers(), query={"max_node": max_node})
    assert r.status_code == 400
    assert catalog.events("version.extract_requested") == []
