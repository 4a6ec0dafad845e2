"""Google-signed OIDC ID tokens from service accounts (Cloud Scheduler, Cloud Tasks, Pub/Sub push, Cloud Build).

Verified with google-auth against Google's certificates (the URL is a setting, so tests serve their own keys on
loopback): signature, expiry, issuer, audience, a verified e-mail, and that e-mail in the allowed list."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Sequence
from typing import Any

from shared.auth.firebase import bearer_token
from shared.errors import Forbidden, Unauthenticated

log = logging.getLogger(__name__)
ISSUERS = ("accounts.google.com", "https://accounts.google.com")


class ServiceAccountVerifier:
    def __init__(self, audience: str | None, allowed: Sequence[str], certs_url: str) -> None:
        self._audience = audience
        self._allowed = [a.lower() for a in allowed]
        self._certs_url = certs_url
        self._request: Any = None
        self._lock = threading.Lock()

    def _transport(self) -> Any:
        with self._lock:
            if self._request is None:
                import google.auth.transport.requests

                self._request = google.auth.transport.requests.Request()
            return self._request

    def verify(self, authorization: str | None, path: str) -> str:
        """The calling service account's e-mail, or Unauthenticated / Forbidden."""
        token = bearer_token(authorization, path)
        if not self._audience or not self._allowed:
            raise Forbidden(
                "Service calls are not configured (SERVICE_AUDIENCE, SERVICE_ACCOUNTS)",
                code="service_auth_not_configured",
            )
        from google.auth import exceptions
        from google.oauth2 import id_token

        try:
            claims = id_token.verify_token(
                token, self._transport(), audience=self._audience, certs_url=self._certs_url, clock_skew_in_seconds=10
            )
        except (ValueError, exceptions.GoogleAuthError) as exc:
            log.info("service token rejected: %s", type(exc).__name__)
            raise Unauthenticated("Invalid service token", code="invalid_token") from exc
        if claims.get("iss") not in ISSUERS:
            raise Unauthenticated("Invalid service token issuer", code="invalid_token")
        email = str(claims.get("email") or "").lower()
        if not claims.get("email_verified") or not any(hmac.compare_digest(email, a) for a in self._allowed):
            raise Forbidden("This service account may not call this endpoint", code="service_account_not_allowed")
        return email
