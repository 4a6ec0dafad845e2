"""The partner's credential on an outbound call, as its catalog entry says: a bearer, a header of its own, Kling's
HS256 JWT minted from `ACCESS:SECRET` (issuer the access key, valid 30 minutes, from 5 seconds ago), or a `Signing`
the transport applies as the request leaves (Tencent's TC3 signature, Google's OAuth2 token)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping

from functions.proxy.catalog.model import Auth, Partner
from shared.errors import Unavailable
from shared.proxy.ports import Signing

KLING_TOKEN_SECONDS = 1800
# A PARTNER_BASE_URLS entry under this name replaces Google's token endpoint (`<url>/token`): how the local fake
# partners stand in for it. Without it, the service-account key's own `token_uri` is used.
GOOGLE_TOKEN_ENDPOINT = "google-token"  # noqa: S105  (a name, not a secret)


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
        headers[partner.auth_header] = partner.auth_prefix + credential
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


def signing_of(partner: Partner, credential: str, base_urls: Mapping[str, str]) -> Signing | None:
    """What the transport must sign the call with, if anything (checked here, so a malformed credential is a
    configuration error before any credit is held)."""
    if partner.auth is Auth.TC3:
        secret_id, sep, secret_key = credential.partition(":")
        if not sep or not secret_id or not secret_key:
            raise PartnerNotConfigured(
                "The Tencent credential must be SECRET_ID:SECRET_KEY.", code="partner_not_configured"
            )
        return Signing("tc3", credential, service=partner.signing_service)
    if partner.auth is Auth.GOOGLE:
        project_of(credential)
        endpoint = base_urls.get(GOOGLE_TOKEN_ENDPOINT, "")
        return Signing("google", credential, token_uri=f"{endpoint.rstrip('/')}/token" if endpoint else "")
    return None


def project_of(credential: str) -> str:
    """The Google Cloud project of a service-account JSON key (Vertex AI's URLs name it)."""
    try:
        key = json.loads(credential)
    except ValueError:
        key = None
    project = key.get("project_id") if isinstance(key, dict) else None
    if not isinstance(project, str) or not project or not key.get("private_key"):
        raise PartnerNotConfigured(
            "The Google credential must be a service-account JSON key.", code="partner_not_configured"
        )
    return project
