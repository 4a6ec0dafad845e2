"""CdnInvalidator on Cloud CDN: one `urlMaps.invalidateCache` call per path on the load balancer's URL map, through
the Compute Engine REST API with the function's own credentials (google-auth, imported on first use)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)
API = "https://compute.googleapis.com/compute/v1"
TIMEOUT_SECONDS = 10


class CloudCdnInvalidator:
    def __init__(self, project: str, url_map: str, session: Any = None) -> None:
        self._url = f"{API}/projects/{project}/global/urlMaps/{url_map}/invalidateCache"
        self._session = session  # an authorised requests session; made on first use
        self._lock = threading.Lock()

    def _authorised(self) -> Any:
        with self._lock:
            if self._session is None:
                import google.auth
                from google.auth.transport.requests import AuthorizedSession

                credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/compute"])
                self._session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
            return self._session

    def invalidate(self, paths: Sequence[str]) -> None:
        for path in dict.fromkeys(paths):
            try:
                answer = self._authorised().post(self._url, json={"path": path}, timeout=TIMEOUT_SECONDS)
                if answer.status_code >= 400:
                    log.warning("CDN invalidation of %s refused: HTTP %s", path, answer.status_code)
            except Exception as exc:  # noqa: BLE001 - best effort: the answer expires after its s-maxage anyway
                log.warning("CDN invalidation of %s failed: %s", path, type(exc).__name__)
