"""Who is calling, as every area's handlers read it from the request."""

from __future__ import annotations

from flask import Request

from shared.auth.firebase import bearer_token
from shared.auth.identity import Identity
from shared.bootstrap import Container


def caller(request: Request, c: Container) -> Identity:
    """The person behind the Firebase ID token in `Authorization: Bearer` (401 without a valid one)."""
    token = bearer_token(request.headers.get("Authorization"), request.path)
    return c.verifier.verify(token)


def service_account(request: Request, c: Container) -> str:
    """The e-mail of the Google service account whose OIDC token authorises this call (401/403 otherwise)."""
    return c.service_verifier.verify(request.headers.get("Authorization"), request.path)
