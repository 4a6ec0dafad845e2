"""Who calls a CI endpoint: a CI key (`X-CI-Key`, or as a bearer token), a Google service account's ID token, or a
person's Firebase login. The issuer of an unverified JWT only chooses which verifier checks it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shared.auth import secrets
from shared.auth.firebase import TokenVerifier, bearer_token
from shared.auth.google_oidc import ISSUERS
from shared.auth.identity import Identity
from shared.errors import Unauthenticated
from shared.ports import ServiceVerifier


@dataclass(frozen=True)
class CiCaller:
    """Who calls: a CI key (named by its digest's prefix), a service account (its e-mail), or a signed-in user."""

    kind: Literal["ci_key", "service_account", "user"]
    name: str
    identity: Identity | None = None


@dataclass(frozen=True)
class Credentials:
    """What a CI request carries: the `X-CI-Key` header, or `Authorization` (a CI key as a bearer, a Google ID token
    of a service account, or a person's Firebase ID token)."""

    path: str
    ci_key: str | None = None
    authorization: str | None = None


@dataclass(frozen=True)
class Verifiers:
    key_digests: Sequence[str]  # SHA-256 digests of the accepted CI keys
    people: TokenVerifier
    services: ServiceVerifier


def identify(creds: Credentials, verifiers: Verifiers) -> CiCaller:
    """A CI key, a service-account token or a Firebase login; 401/403 otherwise."""
    if creds.ci_key is not None:
        return _by_key(creds.ci_key.strip(), verifiers.key_digests)
    if not creds.authorization:
        raise Unauthenticated(
            f"missing credentials for path: {creds.path}; send a CI key (X-CI-Key or Authorization: Bearer) or a "
            "Google ID token (Authorization: Bearer)",
            code="missing_token",
        )
    token = bearer_token(creds.authorization, creds.path)
    if _key_matches(token, verifiers.key_digests):
        return CiCaller("ci_key", _key_name(token))
    issuer = _unverified_issuer(token)
    if not issuer:
        raise Unauthenticated("Invalid CI key", code="invalid_ci_key")
    if issuer in ISSUERS:
        return CiCaller("service_account", verifiers.services.verify(creds.authorization, creds.path))
    identity = verifiers.people.verify(token)
    return CiCaller("user", identity.uid, identity)


def _by_key(key: str, digests: Sequence[str]) -> CiCaller:
    if not key:
        raise Unauthenticated("The X-CI-Key header is empty", code="missing_token")
    if not _key_matches(key, digests):
        raise Unauthenticated("Invalid CI key", code="invalid_ci_key")
    return CiCaller("ci_key", _key_name(key))


def _key_matches(key: str, digests: Sequence[str]) -> bool:
    # Compare with every configured digest, without stopping early.
    found = False
    for stored in digests:
        found |= secrets.matches(key, stored)
    return found


def _key_name(key: str) -> str:
    return secrets.digest(key)[:12]  # names the key in events without revealing it


def _unverified_issuer(token: str) -> str:
    """The `iss` claim of a JWT-shaped token, only to choose which verifier checks it; "" if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return ""
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError, binascii.Error):
        return ""
    return str(claims.get("iss") or "") if isinstance(claims, dict) else ""
