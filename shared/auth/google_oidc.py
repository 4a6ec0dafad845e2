"""Google-signed OIDC ID tokens from service accounts (Cloud Scheduler, Cloud Tasks, Pub/Sub push, Cloud Build).

Verified with google-auth against Google's certificates (the URL is a setting, so tests serve their own keys on
loopback): signature, expiry, issuer, audience, a verified e-mail, and that e-mail in the allowed list.

The certificates (`{"<kid>": "<PEM certificate>"}`, Google's v1 format) are cached for the response's
`Cache-Control: max-age` (bounded), and fetched again early when a token names a key id we do not hold, at most
once per `REFRESH_INTERVAL`, so a stream of forged key ids cannot turn into a stream of fetches."""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from shared.auth.firebase import bearer_token
from shared.errors import Forbidden, Unauthenticated, Unavailable

log = logging.getLogger(__name__)
ISSUERS = ("accounts.google.com", "https://accounts.google.com")
CLOCK_SKEW_SECONDS = 10
FETCH_TIMEOUT_SECONDS = 5.0
DEFAULT_TTL, MIN_TTL, MAX_TTL = 300.0, 60.0, 6 * 3600.0
REFRESH_INTERVAL = 30.0
_MAX_AGE = re.compile(r"max-age=(\d+)")


class ServiceAccountVerifier:
    def __init__(self, audience: str | None, allowed: Sequence[str], certs_url: str) -> None:
        self._audience = audience
        self._allowed = [a.strip().lower() for a in allowed if a.strip()]
        self._certs_url = certs_url
        self._request: Any = None
        self._lock = threading.Lock()
        self._certs: dict[str, str] = {}
        self._expires = 0.0
        self._fetched = 0.0

    @property
    def configured(self) -> bool:
        return bool(self._audience and self._allowed)

    def verify(self, authorization: str | None, path: str) -> str:
        """The calling service account's e-mail, or Unauthenticated / Forbidden (Unavailable if certs are)."""
        token = bearer_token(authorization, path)
        if not self.configured:
            raise Forbidden(
                "Service calls are not configured (SERVICE_AUDIENCE, SERVICE_ACCOUNTS)",
                code="service_auth_not_configured",
            )
        claims = self._decode(token)
        if claims.get("iss") not in ISSUERS:
            raise Unauthenticated("Invalid service token issuer", code="invalid_token")
        email = str(claims.get("email") or "").lower()
        # Google sends a JSON boolean; a string "false" must not pass as truthy.
        verified = claims.get("email_verified") in (True, "true")
        if not verified or not any(hmac.compare_digest(email, a) for a in self._allowed):
            raise Forbidden("This service account may not call this endpoint", code="service_account_not_allowed")
        return email

    def _decode(self, token: str) -> Mapping[str, Any]:
        from google.auth import exceptions, jwt

        try:
            kid = jwt.decode_header(token).get("kid")  # type: ignore[no-untyped-call]
        except (ValueError, exceptions.GoogleAuthError) as exc:
            raise Unauthenticated("Invalid service token", code="invalid_token") from exc
        try:
            claims: Mapping[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                token,
                certs=self._certs_for(kid if isinstance(kid, str) else None),
                audience=self._audience,
                clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
            )
        except (ValueError, exceptions.GoogleAuthError) as exc:
            log.info("service token rejected: %s: %s", type(exc).__name__, exc)
            raise Unauthenticated("Invalid service token", code="invalid_token") from exc
        return claims

    def _certs_for(self, kid: str | None) -> dict[str, str]:
        with self._lock:
            now = time.monotonic()
            stale = now >= self._expires
            unknown = kid is not None and kid not in self._certs and now - self._fetched >= REFRESH_INTERVAL
            if stale or unknown:
                self._certs, ttl = self._fetch()
                self._fetched = now
                self._expires = now + ttl
            return dict(self._certs)

    def _fetch(self) -> tuple[dict[str, str], float]:
        from google.auth import exceptions

        try:
            response = self._transport()(self._certs_url, method="GET", timeout=FETCH_TIMEOUT_SECONDS)
            if response.status != 200:
                raise exceptions.TransportError(f"HTTP {response.status}")  # type: ignore[no-untyped-call]
            data = json.loads(response.data.decode("utf-8"))
        except (exceptions.TransportError, ValueError) as exc:
            log.warning("google certificates unavailable at %s: %s", self._certs_url, exc)
            raise Unavailable("Could not verify the service token now; try again shortly.") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            log.warning("google certificates at %s are not a {kid: PEM} map", self._certs_url)
            raise Unavailable("Could not verify the service token now; try again shortly.")
        return {str(k): v for k, v in data.items()}, _ttl(response.headers)

    def _transport(self) -> Any:
        if self._request is None:
            import google.auth.transport.requests

            self._request = google.auth.transport.requests.Request()
        return self._request


def _ttl(headers: Mapping[str, str] | None) -> float:
    cache_control = next((v for k, v in (headers or {}).items() if k.lower() == "cache-control"), "")
    match = _MAX_AGE.search(cache_control)
    if not match:
        return DEFAULT_TTL
    return min(max(float(match.group(1)), MIN_TTL), MAX_TTL)
