"""The partner's credential on an outbound call, as its catalog entry says: a bearer, a header of its own, or Kling's
HS256 JWT minted from `ACCESS:SECRET` (issuer the access key, valid 30 minutes, from 5 seconds ago)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from functions.proxy.catalog.model import Auth, Partner
from shared.errors import Unavailable

KLING_TOKEN_SECONDS = 1800


class PartnerNotConfigured(Unavailable):
    """No credential for this partner: the gateway cannot call it."""


def credential_of(partner: Partner, credentials: Mapping[str, str]) -> str:
    value = credentials.get(partner.name, "")
    if partner.auth is not Auth.NONE and not value:
        raise PartnerNotConfigured(
            f"The partner {partner.name!r} is not configured on this gateway.", code="partner_not_configured"
        )
    return value


def partner_headers(partner: Partner, credential: str, *, now: float | None = None) -> dict[str, str]:
    """The headers that authenticate us to the partner (plus its fixed and per-call ones)."""
    headers = dict(partner.extra_headers)
    if partner.trace_header:
        headers[partner.trace_header] = str(uuid.uuid4())
    if partner.auth is Auth.BEARER:
        headers["Authorization"] = f"Bearer {credential}"
    elif partner.auth is Auth.HEADER:
        headers[partner.auth_header] = credential
    elif partner.auth is Auth.KLING_JWT:
        headers["Authorization"] = f"Bearer {kling_token(credential, now=now)}"
    return headers


def kling_token(credential: str, *, now: float | None = None) -> str:
    import jwt

    access, sep, secret = credential.partition(":")
    if not sep or not access or not secret:
        raise PartnerNotConfigured("The Kling credential must be ACCESS_KEY:SECRET_KEY.", code="partner_not_configured")
    issued = int(now if now is not None else time.time())
    claims = {"iss": access, "exp": issued + KLING_TOKEN_SECONDS, "nbf": issued - 5}
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
