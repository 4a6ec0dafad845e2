"""Firebase ID-token verification through firebase-admin, imported only when a token arrives.

With FIREBASE_AUTH_EMULATOR_HOST set, firebase-admin itself accepts unsigned emulator tokens; `Settings`
refuses that variable outside local and test, so production always checks signatures."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from shared.auth.identity import Identity
from shared.errors import Unauthenticated

log = logging.getLogger(__name__)


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Identity: ...


class FirebaseTokenVerifier:
    def __init__(self, project_id: str) -> None:
        self._project_id = project_id
        self._app: Any = None
        self._lock = threading.Lock()

    def _firebase_app(self) -> Any:
        with self._lock:
            if self._app is None:
                import firebase_admin

                name = f"registry-{self._project_id}"
                try:
                    self._app = firebase_admin.get_app(name)
                except ValueError:
                    self._app = firebase_admin.initialize_app(options={"projectId": self._project_id}, name=name)
            return self._app

    def verify(self, token: str) -> Identity:
        from firebase_admin import auth

        try:
            claims = auth.verify_id_token(token, app=self._firebase_app(), clock_skew_seconds=10)
        except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError) as exc:
            log.info("firebase token rejected: %s", type(exc).__name__)
            raise Unauthenticated("invalid auth token", code="invalid_token") from exc
        except auth.CertificateFetchError as exc:
            log.warning("firebase certificates unavailable: %s", exc)
            raise Unauthenticated("could not verify the auth token now", code="invalid_token") from exc
        uid = claims.get("uid") or claims.get("sub")
        if not uid:
            raise Unauthenticated("invalid auth token", code="invalid_token")
        return Identity(
            uid=str(uid),
            email=claims.get("email"),
            name=claims.get("name"),
            admin_claim=claims.get("admin") is True,
            claims=dict(claims),
        )


def bearer_token(header: str | None, path: str) -> str:
    """The token of an `Authorization: Bearer x` header, with the old service's messages."""
    if not header:
        raise Unauthenticated(f"missing auth token for path: {path}", code="missing_token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("token is not in Bearer format", code="invalid_token")
    return token.strip()
