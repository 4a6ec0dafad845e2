"""The one place that picks adapters from `Settings`. Tests build a Container with fakes instead."""

from __future__ import annotations

import threading
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.auth.firebase import FirebaseTokenVerifier, TokenVerifier
from shared.auth.google_oidc import ServiceAccountVerifier
from shared.db.engine import Pool, engine_for, session_factory
from shared.downloads import DownloadCounter
from shared.ports import BlobStore, EventPublisher, SearchIndex
from shared.read_cache import ReadCache
from shared.repositories import epoch
from shared.settings import Settings, get_settings
from shared.uow import UnitOfWork


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        blobs: BlobStore | None = None,
        publisher: EventPublisher | None = None,
        verifier: TokenVerifier | None = None,
    ) -> None:
        self.settings = settings
        if blobs is not None:
            self.__dict__["blobs"] = blobs
        if publisher is not None:
            self.__dict__["publisher"] = publisher
        if verifier is not None:
            self.__dict__["verifier"] = verifier
        # Built now, not on first use: two first requests racing must not each get their own (and invalidate one
        # the other never reads). Neither touches the database until used.
        self.read_cache = self._read_cache()
        self.downloads = DownloadCounter(lambda: self.sessions(), settings.download_flush_seconds)

    @cached_property
    def engine(self) -> Engine:
        s = self.settings
        pool = Pool(s.database_pool_size, s.database_max_overflow, s.database_pool_timeout_seconds)
        return engine_for(s.resolved_database_url, pool)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.publisher, self.settings.events_topic, self.read_cache.invalidate)

    def _read_cache(self) -> ReadCache:
        s = self.settings

        def current_epoch() -> int:
            with self.sessions() as session:
                return epoch.current(session)

        return ReadCache(
            current_epoch,
            max_age=s.read_cache_seconds,
            check_every=s.read_cache_check_seconds,
            capacity=s.read_cache_entries,
            max_bytes=s.read_cache_max_bytes,
        )

    @cached_property
    def blobs(self) -> BlobStore:
        s = self.settings
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
        from shared.adapters.local_blobs import LocalBlobStore, persistent_key

        # Kept under DATA_DIR, so that URLs handed out before a restart still work after it.
        key = s.local_signing_key.encode() if s.local_signing_key else persistent_key(s.data_dir / "signing.key")
        return LocalBlobStore(
            s.data_dir / "blobs",
            s.base_url,
            key,
            incoming_bucket=s.uploads_bucket,
            releases_bucket=s.releases_bucket,
            ttl_seconds=s.signed_url_ttl_seconds,
            download_ttl_seconds=s.archive_download_ttl_seconds,
        )

    @cached_property
    def publisher(self) -> EventPublisher:
        if self.settings.events_backend == "pubsub":
            from shared.adapters.pubsub_publisher import PubSubPublisher

            return PubSubPublisher(self.settings.gcp_project)
        from shared.adapters.inprocess_publisher import InProcessPublisher

        return InProcessPublisher()

    @cached_property
    def verifier(self) -> TokenVerifier:
        return FirebaseTokenVerifier(self.settings.firebase_project_id)

    @cached_property
    def service_verifier(self) -> ServiceAccountVerifier:
        s = self.settings
        return ServiceAccountVerifier(s.service_audience, s.service_account_list, s.google_certs_url)

    @cached_property
    def search(self) -> SearchIndex:
        """Algolia when configured; otherwise the database, which is always there."""
        s = self.settings
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

        return DatabaseSearchIndex(self.uow)


_lock = threading.Lock()
_container: Container | None = None


def get_container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = Container(get_settings())
        return _container


def set_container(container: Container | None) -> None:
    """Install (or with None, forget) the process-wide container: the local stack and tests use this."""
    global _container
    with _lock:
        _container = container
