"""The local stack: every HTTP function behind the shared routing table, the local blob store's URLs,
events delivered in-process, and the scheduled jobs on a timer or on demand."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import functions_framework

from shared import outbox, routing
from shared.adapters.local_blobs import PREFIX as BLOB_PREFIX
from shared.adapters.local_blobs import LocalBlobStore
from shared.bootstrap import Container, set_container
from shared.db import migrate
from shared.settings import Settings

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
JOBS_PREFIX = "/_local/jobs/"


class LocalStack:
    def __init__(self, settings: Settings, *, migrate_db: bool = True) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate_db:
            migrate.upgrade(settings.resolved_database_url)
        self.container = Container(settings)
        set_container(self.container)
        self.apps: dict[str, Any] = {
            fn.name: functions_framework.create_app(  # type: ignore[no-untyped-call]
                fn.entry_point, str(ROOT / fn.source / "main.py"), "http"
            )
            for fn in routing.HTTP_FUNCTIONS
        }
        self.jobs: dict[str, Callable[[], Any]] = {
            "outbox-sweep": lambda: outbox.sweep(self.container.sessions, self.container.publisher),
        }
        self._stop = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        blobs = self.container.blobs
        if path.startswith(BLOB_PREFIX) and isinstance(blobs, LocalBlobStore):
            return blobs.wsgi(environ, start_response)
        if path.startswith(JOBS_PREFIX) and environ.get("REQUEST_METHOD") == "POST":
            return self._run_job(path.removeprefix(JOBS_PREFIX), start_response)
        app = self.apps[routing.function_for(path)]
        response: Iterable[bytes] = app(environ, start_response)
        return response

    def _run_job(self, name: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        job = self.jobs.get(name)
        if job is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"no job {name!r}; jobs: {', '.join(self.jobs)}".encode()]
        result = job()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name}: {result}\n".encode()]

    def start_timers(self, every_seconds: float = 30.0) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(every_seconds):
                for name, job in self.jobs.items():
                    try:
                        job()
                    except Exception:
                        log.exception("local job %s failed", name)

        thread = threading.Thread(target=loop, name="local-jobs", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
