"""The local stack: every HTTP function behind the shared routing table, the local blob store's URLs,
events delivered in-process, and the scheduled jobs on a timer or on demand."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import functions_framework

from local.events import deliver_to_releases, finalized_in_background
from shared import outbox, routing
from shared.adapters.inprocess_publisher import InProcessPublisher, Message
from shared.adapters.inprocess_tasks import InProcessTaskQueue
from shared.adapters.local_blobs import PREFIX as BLOB_PREFIX
from shared.adapters.local_blobs import LocalBlobStore
from shared.billing.uow import USAGE_EXPORT
from shared.bootstrap import bootstrap, set_container
from shared.db import migrate
from shared.settings import Settings

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
JOBS_PREFIX = "/_local/jobs/"
# The longest an upload's answer waits for its scan (which goes on after it): a pack is usually judged well within.
UPLOAD_WAITS_FOR_SCAN_SECONDS = 10.0


class LocalStack:
    def __init__(self, settings: Settings, *, migrate_db: bool = True, **ports: Any) -> None:
        """`ports` replace the adapters the settings pick (tests pass fakes)."""
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate_db:
            migrate.upgrade(settings.resolved_database_url)
        self.container = bootstrap(settings, **ports)
        set_container(self.container)
        self.apps: dict[str, Any] = {
            fn.name: functions_framework.create_app(  # type: ignore[no-untyped-call]
                fn.entry_point, str(ROOT / fn.source / "main.py"), "http"
            )
            for fn in routing.HTTP_FUNCTIONS
        }
        self.jobs: dict[str, Callable[[], Any]] = {
            "outbox-sweep": lambda: outbox.sweep(self.container.sessions, self.container.publisher),
            "scan-sweep": self._scan_sweep,
            "scanner-advisories-refresh": self._advisories_refresh,
            "search-sync": self._search_sync,
            "search-reindex": self._search_reindex,
            "holds-sweep": self._holds_sweep,
            "reconcile": self._reconcile,
            "proxy-jobs": self._proxy_jobs,
            "github-stars": self._github_stars,
        }
        # Run when asked (POST /_local/jobs/<name>), not every timer tick (the advisory refresh downloads OSV's data).
        # The stars job calls GitHub (set GITHUB_TOKEN for more than 60 requests an hour).
        self.on_demand = {"search-reindex", "reconcile", "scanner-advisories-refresh", "github-stars"}
        self._deliver_in_process(settings)
        self._stop = threading.Event()

    def _deliver_in_process(self, settings: Settings) -> None:
        """Tasks, events and uploads reach their functions in-process, as Google's services deliver them."""
        tasks = self.container.tasks
        if isinstance(tasks, InProcessTaskQueue):
            # Each captured charge's usage export runs in-process, as Cloud Tasks runs billing-usage-export.
            tasks.subscribe(USAGE_EXPORT, self._usage_export)
        publisher = self.container.publisher
        if isinstance(publisher, InProcessPublisher):
            # Registry events reach the indexer in-process, as Pub/Sub delivers them to it in the cloud.
            publisher.subscribe(settings.events_topic, self._index_event)
            # ...and to the scanner's releases, as the scanner-release push subscription does.
            publisher.subscribe(settings.events_topic, deliver_to_releases)
        blobs = self.container.blobs
        if isinstance(blobs, LocalBlobStore):
            removed = blobs.remove_partial_uploads()
            if removed:
                log.info("removed %d partial uploads left by an earlier crash", removed)
            blobs.on_finalized(finalized_in_background(UPLOAD_WAITS_FOR_SCAN_SECONDS))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(BLOB_PREFIX):
            store = self._blob_store_of(path.removeprefix(BLOB_PREFIX).split("/", 1)[0])
            if store is not None:
                return store.wsgi(environ, start_response)
        if path.startswith(JOBS_PREFIX) and environ.get("REQUEST_METHOD") == "POST":
            return self._run_job(path.removeprefix(JOBS_PREFIX), start_response)
        app = self.apps[routing.function_for(path)]
        response: Iterable[bytes] = app(environ, start_response)
        return response

    def _blob_store_of(self, bucket: str) -> LocalBlobStore | None:
        """The customer-storage bucket is a store of its own (its uploads start no scan); every other bucket is the
        registry's."""
        c = self.container
        store = c.customer_storage if bucket == c.settings.customer_storage_bucket else c.blobs
        return store if isinstance(store, LocalBlobStore) else None

    def _scan_sweep(self) -> Any:
        from functions.scanner import apply, sweep

        c = self.container
        return sweep.sweep(
            c.uow,
            c.blobs,
            apply.limits_from(c.settings),
            older_than_minutes=c.settings.scan_pending_minutes,
            rescans_per_run=c.settings.scan_rescans_per_run,
            time_budget_seconds=c.settings.scan_sweep_seconds,
        )

    def _advisories_refresh(self) -> Any:
        """What scanner-advisories-refresh does in the cloud: OSV data from SCAN_ADVISORIES_URL into the blob store."""
        from functions.scanner import advisories_job

        c = self.container
        counts = advisories_job.refresh(
            advisories_job.HttpxAdvisoryFeed(),
            c.blobs,
            url=c.settings.scan_advisories_url,
            max_bytes=c.settings.scan_advisories_max_bytes,
        )
        advisories_job.forget_loaded()
        return counts

    def _index_event(self, message: Message) -> None:
        from functions.indexer.main import handle_message

        handle_message(message.data, message.attributes)

    def _search_sync(self) -> Any:
        from functions.indexer import usecases

        c = self.container
        return usecases.sync_downloads(c.uow, c.search, c.settings.search_sync_batch)

    def _search_reindex(self) -> Any:
        from functions.indexer import reindex

        c = self.container
        return reindex.reindex(c.uow, c.search, batch=c.settings.search_reindex_batch, resume=True)

    def _usage_export(self, payload: Mapping[str, Any]) -> None:
        from functions.billing.jobs import export

        export.run_task(self.container, payload)

    def _holds_sweep(self) -> Any:
        from functions.billing.jobs import holds

        return holds.sweep(self.container)

    def _reconcile(self) -> Any:
        from functions.billing.jobs import reconcile

        return reconcile.run(self.container)

    def _proxy_jobs(self) -> Any:
        """Partner jobs nobody polls, followed as proxy-job-settle does in the cloud (their looks wait in the
        database: the in-process queue only records a task asked for later)."""
        from functions.proxy.gateway.wiring import gateway_of
        from functions.proxy.jobs.settle import follow_due

        return {"followed": follow_due(gateway_of(self.container))}

    def _github_stars(self) -> Any:
        """What the registry-github-stars Cloud Scheduler job asks of POST /nodes/update-github-stars."""
        from functions.registry.comfy_nodes import serializers, usecases

        c = self.container
        return serializers.stars_run(usecases.refresh_stars(c.uow(), c.github, "local", 100))

    def _run_job(self, name: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        job = self.jobs.get(name)
        if job is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"no job {name!r}; jobs: {', '.join(self.jobs)}".encode()]
        result = job()
        if isinstance(result, dict):  # a report (the reconciliation, the holds sweep): as the function answers it
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(result).encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name}: {result}\n".encode()]

    def start_timers(self, every_seconds: float = 30.0) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(every_seconds):
                for name, job in self.jobs.items():
                    if name in self.on_demand:
                        continue
                    try:
                        job()
                    except Exception:
                        log.exception("local job %s failed", name)

        thread = threading.Thread(target=loop, name="local-jobs", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
