"""The one bootstrap: `bootstrap(settings)` picks every adapter from `Settings` and hands them to a `Container`, whose
fields are the ports the use cases and handlers need. Tests build a Container with fakes in place of any port
(`bootstrap(settings, blobs=fake)`, or `dataclasses.replace(container, search=fake)`); nothing reaches into it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.adapters.cdn import RecordingCdnInvalidator
from shared.auth.firebase import TokenVerifier
from shared.billing.ports import PaymentGateway, TaskQueue, UsageMeter
from shared.billing.uow import BillingUnitOfWork, SqlBillingUnitOfWork
from shared.observe.tracing import NoTracing, Tracer, tracer_for
from shared.page_memo import PageMemo
from shared.ports import (
    BlobStore,
    CdnInvalidator,
    DownloadTally,
    EventPublisher,
    GitHubClient,
    SearchIndex,
    ServiceVerifier,
)
from shared.proxy.ports import PartnerTransport
from shared.proxy.uow import ProxyUnitOfWork, SqlProxyUnitOfWork
from shared.read_cache import ReadCache
from shared.settings import Settings, get_settings
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Container:
    settings: Settings
    uow: Callable[[], UnitOfWork]  # a new unit of work for each use case
    blobs: BlobStore
    publisher: EventPublisher
    verifier: TokenVerifier  # people: Firebase ID tokens
    service_verifier: ServiceVerifier  # Google's infrastructure: OIDC tokens of service accounts
    search: SearchIndex
    read_cache: ReadCache
    downloads: DownloadTally  # DownloadCounter in the functions
    # The money side (billing and the gateway).
    billing_uow: Callable[[], BillingUnitOfWork]
    payments: PaymentGateway  # Stripe
    usage_meter: UsageMeter  # Metronome
    tasks: TaskQueue  # Cloud Tasks
    customer_storage: BlobStore  # inputs of partner calls (POST /customers/storage), a bucket of its own
    # The gateway: its unit of work (billing's plus its jobs, replays, counters) and its way out to partners.
    proxy_uow: Callable[[], ProxyUnitOfWork]
    partners: PartnerTransport
    # The database's session factory, for what works below the use cases (the outbox sweep, the fault tests);
    # bound to nothing when the units of work are fakes.
    sessions: sessionmaker[Session] = field(default_factory=sessionmaker)
    # A span around each request and background run (shared/observe): none unless TRACE_EXPORTER names an exporter.
    tracer: Tracer = field(default_factory=NoTracing)
    # The CDN in front of the public reads, told when a ban or flag must not wait for cached answers to expire.
    cdn: CdnInvalidator = field(default_factory=RecordingCdnInvalidator)
    # GitHub's REST API: claim-my-node's ownership proof and the stars job (tests pass a fake).
    github: GitHubClient = field(default_factory=lambda: _github(get_settings()))

    @property
    def engine(self) -> Engine:
        """The database engine behind `sessions`."""
        engine: Engine = self.sessions.kw["bind"]
        return engine


def bootstrap(settings: Settings, **ports: Any) -> Container:
    """A Container of the adapters `settings` pick; any port given by name replaces its adapter. Adapters import
    their vendor's SDK on first use, so building one costs nothing a cold start would notice."""
    from shared.db.engine import Pool, engine_for, session_factory
    from shared.downloads import DownloadCounter
    from shared.repositories import epoch
    from shared.uow import SqlUnitOfWork

    sessions = ports.pop("sessions", None)
    if sessions is None:
        if "uow" in ports:
            sessions = sessionmaker()  # fakes: nothing below the use cases is reached
        else:
            pool = Pool(
                settings.database_pool_size, settings.database_max_overflow, settings.database_pool_timeout_seconds
            )
            sessions = session_factory(engine_for(settings.resolved_database_url, pool))
    publisher = ports.pop("publisher", None) or _publisher(settings)
    read_cache = ports.pop("read_cache", None)
    if read_cache is None:

        def current_epoch() -> int:
            with sessions() as session:
                return epoch.current(session)

        read_cache = _read_cache(settings, current_epoch)

    # Listing counts and page starts, valid for the read cache's tag (kept when the answer cache is off).
    memo = PageMemo(read_cache.tag)

    def new_uow() -> UnitOfWork:
        return SqlUnitOfWork(sessions, publisher, settings.events_topic, read_cache.invalidate, memo)

    uow = ports.pop("uow", None) or new_uow
    tasks = ports.pop("tasks", None) or _tasks(settings)
    billing_uow = ports.pop("billing_uow", None) or (lambda: SqlBillingUnitOfWork(sessions, tasks))
    proxy_uow = ports.pop("proxy_uow", None) or (lambda: SqlProxyUnitOfWork(sessions, tasks))
    container = Container(
        settings=settings,
        uow=uow,
        blobs=ports.pop("blobs", None) or _blobs(settings),
        publisher=publisher,
        verifier=ports.pop("verifier", None) or _verifier(settings),
        service_verifier=ports.pop("service_verifier", None) or _service_verifier(settings),
        search=ports.pop("search", None) or _search(settings, uow, memo),
        read_cache=read_cache,
        downloads=ports.pop("downloads", None) or DownloadCounter(sessions, settings.download_flush_seconds),
        billing_uow=billing_uow,
        payments=ports.pop("payments", None) or _payments(settings),
        usage_meter=ports.pop("usage_meter", None) or _usage_meter(settings),
        tasks=tasks,
        customer_storage=ports.pop("customer_storage", None) or _customer_storage(settings),
        proxy_uow=proxy_uow,
        partners=ports.pop("partners", None) or _partners(),
        sessions=sessions,
        tracer=ports.pop("tracer", None) or tracer_for(settings),
        cdn=ports.pop("cdn", None) or _cdn(settings),
        github=ports.pop("github", None) or _github(settings),
    )
    if ports:  # whatever no field above took
        raise TypeError(f"bootstrap() got ports it does not know: {sorted(ports)}")
    return container


def _read_cache(settings: Settings, current_epoch: Callable[[], int]) -> ReadCache:
    return ReadCache(
        current_epoch,
        max_age=settings.read_cache_seconds,
        check_every=settings.read_cache_check_seconds,
        capacity=settings.read_cache_entries,
        max_bytes=settings.read_cache_max_bytes,
    )


def _cdn(s: Settings) -> CdnInvalidator:
    """Cloud CDN when the URL map to invalidate is named; otherwise a recorder (no CDN in front of us)."""
    if s.cdn_url_map:
        from shared.adapters.cloud_cdn import CloudCdnInvalidator

        return CloudCdnInvalidator(s.gcp_project, s.cdn_url_map)
    return RecordingCdnInvalidator()


def _github(s: Settings) -> GitHubClient:
    from shared.adapters.github_rest import HttpxGitHubClient

    return HttpxGitHubClient(s.github_api_url, s.github_token, timeout=s.github_timeout_seconds)


def _blobs(s: Settings) -> BlobStore:
    if s.blob_backend == "gcs":
        from shared.adapters.gcs_blobs import GcsBlobStore

        return GcsBlobStore(
            s.uploads_bucket,
            releases_bucket=s.releases_bucket,
            project=s.gcp_project,
            ttl_seconds=s.signed_url_ttl_seconds,
            download_ttl_seconds=s.archive_download_ttl_seconds,
            endpoint=s.gcs_endpoint,
        )
    from shared.adapters.local_blobs import LocalBlobStore

    key = _local_signing_key(s)
    return LocalBlobStore(
        s.data_dir / "blobs",
        s.base_url,
        key,
        incoming_bucket=s.uploads_bucket,
        releases_bucket=s.releases_bucket,
        ttl_seconds=s.signed_url_ttl_seconds,
        download_ttl_seconds=s.archive_download_ttl_seconds,
    )


def _local_signing_key(s: Settings) -> bytes:
    """Kept under DATA_DIR, so that URLs handed out before a restart still work after it."""
    from shared.adapters.local_blobs import persistent_key

    return s.local_signing_key.encode() if s.local_signing_key else persistent_key(s.data_dir / "signing.key")


def _customer_storage(s: Settings) -> BlobStore:
    """The customer-storage bucket behind the same BlobStore port: its uploads start no scan, and nothing in it is
    ever released (its lifecycle rule deletes objects after a day)."""
    ttl = s.customer_storage_ttl_seconds
    if s.blob_backend == "gcs":
        from shared.adapters.gcs_blobs import GcsBlobStore

        bucket = s.customer_storage_bucket
        return GcsBlobStore(
            bucket,
            releases_bucket=bucket,
            project=s.gcp_project,
            ttl_seconds=ttl,
            download_ttl_seconds=ttl,
            endpoint=s.gcs_endpoint,
        )
    from shared.adapters.local_blobs import LocalBlobStore

    key = _local_signing_key(s)
    bucket = s.customer_storage_bucket
    return LocalBlobStore(
        s.data_dir / "blobs",
        s.base_url,
        key,
        incoming_bucket=bucket,
        releases_bucket=bucket,
        ttl_seconds=ttl,
        download_ttl_seconds=ttl,
    )


def _publisher(s: Settings) -> EventPublisher:
    if s.events_backend == "pubsub":
        from shared.adapters.pubsub_publisher import PubSubPublisher

        return PubSubPublisher(s.gcp_project)
    from shared.adapters.inprocess_publisher import InProcessPublisher

    return InProcessPublisher()


def _verifier(s: Settings) -> TokenVerifier:
    from shared.auth.firebase import FirebaseTokenVerifier

    return FirebaseTokenVerifier(s.firebase_project_id)


def _service_verifier(s: Settings) -> ServiceVerifier:
    from shared.auth.google_oidc import ServiceAccountVerifier

    return ServiceAccountVerifier(s.service_audience, s.service_account_list, s.google_certs_url)


def _search(s: Settings, uow: Callable[[], UnitOfWork], memo: PageMemo) -> SearchIndex:
    """Algolia when configured; otherwise the database, which is always there."""
    if s.algolia_configured:
        from shared.adapters.algolia_search import AlgoliaSearchIndex

        return AlgoliaSearchIndex(
            s.algolia_app_id or "",
            s.algolia_api_key or "",
            nodes_index=s.algolia_nodes_index,
            versions_index=s.algolia_versions_index,
            hosts=s.algolia_host_list,
        )
    from shared.adapters.database_search import DatabaseSearchIndex

    return DatabaseSearchIndex(uow, memo)


def _payments(s: Settings) -> PaymentGateway:
    if s.stripe_configured:
        from shared.adapters.stripe_payments import StripePayments

        return StripePayments.from_settings(s)
    from shared.adapters.unconfigured import PaymentsNotConfigured

    return PaymentsNotConfigured()


def _usage_meter(s: Settings) -> UsageMeter:
    if s.metronome_configured:
        from shared.adapters.metronome_usage import MetronomeUsage

        return MetronomeUsage.from_settings(s)
    from shared.adapters.unconfigured import NoUsageMeter

    return NoUsageMeter()


def _partners() -> PartnerTransport:
    from shared.adapters.httpx_partners import HttpxPartnerTransport

    return HttpxPartnerTransport()


def _tasks(s: Settings) -> TaskQueue:
    if s.tasks_backend == "cloudtasks":
        from shared.adapters.cloud_tasks import CloudTasksQueue

        return CloudTasksQueue.from_settings(s)
    from shared.adapters.inprocess_tasks import InProcessTaskQueue

    return InProcessTaskQueue()


_lock = threading.Lock()
_container: Container | None = None


def get_container() -> Container:
    """The process's container, bootstrapped from the environment's settings on first use."""
    global _container
    with _lock:
        if _container is None:
            _container = bootstrap(get_settings())
        return _container


def set_container(container: Container | None) -> None:
    """Install (or with None, forget) the process-wide container: the local stack and tests use this."""
    global _container
    with _lock:
        _container = container
