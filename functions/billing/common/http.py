"""Who is calling a billing path, as every area's handlers read it from the request."""

from __future__ import annotations

from flask import Request

from shared.billing.callers import Caller, identify, require_admin_secret
from shared.bootstrap import Container
from shared.errors import Forbidden


def caller(request: Request, c: Container) -> Caller:
    """The customer behind `Authorization: Bearer <Firebase ID token>` or `X-API-KEY: comfyui-...` (401 without)."""
    return identify(request.headers, request.path, c.verifier, c.billing_uow)


def admin(request: Request, c: Container) -> Caller:
    """A caller who is an admin (the Firebase claim `admin`, or the registry's `users.is_admin`); 403 otherwise."""
    who = caller(request, c)
    if not who.is_admin:
        raise Forbidden("This operation is for admins.", code="admin_only")
    return who


def admin_secret(request: Request, c: Container) -> None:
    """`X-Comfy-Admin-Secret`, compared in constant time with ADMIN_SECRET_DIGEST (401 when missing or wrong)."""
    require_admin_secret(request.headers.get("X-Comfy-Admin-Secret"), c.settings.admin_secret_digest)
