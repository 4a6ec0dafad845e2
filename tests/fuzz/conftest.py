"""A seeded registry per database for the fuzz run (FUZZ_DATABASES, by default `sqlite,postgresql`): a fresh
database, the registry function's WSGI app as functions-framework builds it, and the credentials of every kind the
document declares (Firebase, CI key, Google service-account token)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from local.events import deliver_finalized
from local.fake_partners import CREDENTIALS, FakePartners
from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.adapters.stripe_payments import StripePayments
from shared.bootstrap import bootstrap, set_container
from tests.billing.stripe_support import (
    METRONOME_SECRET,
    PRICES,
    SECRET_KEY,
    WEBHOOK_SECRET,
    ensure_plans,
    running_servers,
)
from tests.billing.usage_support import meter_for, serve_metronome
from tests.conftest import make_settings
from tests.fuzz import seed
from tests.registry.oidc_support import GoogleCerts, ServiceAuth, install
from tests.support import RegistryClient

DATABASES = os.environ.get("FUZZ_DATABASES", "sqlite,postgresql").split(",")


@dataclass
class FuzzStack:
    api: RegistryClient
    service: ServiceAuth
    known: seed.Known


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        database = tmp_path_factory.mktemp("fuzz-db") / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), database)
        yield f"sqlite:///{database}"
        return
    server, template = request.getfixturevalue("postgres_server"), request.getfixturevalue("pg_template")
    if server is None:
        pytest.skip("PostgreSQL is not available here (see the reason printed at the start)")
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def fuzz_stack(
    fuzz_database: str, tmp_path_factory: pytest.TempPathFactory, registry_app: object
) -> Iterator[FuzzStack]:
    folder = tmp_path_factory.mktemp("fuzz")
    # The read cache and the download tally as deployed: the fuzzer's repeated reads go through them too. Billing
    # talks to localstripe behind its loopback front, and to a loopback Metronome, as in tests/billing.
    stripe = running_servers()
    ensure_plans(stripe)
    fakes = FakePartners()
    fakes.start()
    settings = make_settings(
        fuzz_database,
        folder / "data",
        CI_UPLOAD_KEY_DIGESTS=seed.ci_key_digest(),
        ADMIN_SECRET_DIGEST=seed.admin_secret_digest(),
        READ_CACHE_SECONDS=30,
        DOWNLOAD_FLUSH_SECONDS=1,
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe.front.url,
        SUBSCRIPTION_PRICES=dict(PRICES),
        METRONOME_WEBHOOK_SECRET=METRONOME_SECRET,
        # The gateway forwards to the loopback fake partners.
        PARTNER_BASE_URLS=fakes.base_urls(),
        PARTNER_CREDENTIALS=dict(CREDENTIALS),
    )
    with serve_metronome() as metronome:
        payments = StripePayments.from_settings(settings)
        ports = {"payments": payments, "usage_meter": meter_for(metronome)}
        container = bootstrap(settings, publisher=InProcessPublisher(), **ports)
        container.blobs.on_finalized(deliver_finalized)  # type: ignore[attr-defined]
        set_container(container)
        try:
            with GoogleCerts() as google:
                api = RegistryClient(registry_app.test_client(), container)  # type: ignore[attr-defined]
                service = install(api, google)
                yield FuzzStack(api, service, seed.seed(api))
        finally:
            set_container(None)
            container.downloads.flush()  # type: ignore[attr-defined]
            container.engine.dispose()
            fakes.stop()
