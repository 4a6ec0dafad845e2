"""What every handler needs: the container and the caller."""

from __future__ import annotations

from flask import Request

from shared.auth.firebase import bearer_token
from shared.auth.identity import Identity
from shared.bootstrap import Container, get_container


def container() -> Container:
    return get_container()


def caller(request: Request) -> Identity:
    token = bearer_token(request.headers.get("Authorization"), request.path)
    return container().verifier.verify(token)


def service_account(request: Request) -> str:
    """The e-mail of the Google service account whose OIDC token authorises this call (401/403 otherwise)."""
    return container().service_verifier.verify(request.headers.get("Authorization"), request.path)
