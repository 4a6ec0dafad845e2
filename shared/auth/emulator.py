"""Unsigned ID tokens of the shape the Firebase Auth emulator issues, for the local stack and tests.

firebase-admin accepts them only while FIREBASE_AUTH_EMULATOR_HOST is set, which Settings allows only in
local and test."""

from __future__ import annotations

import base64
import json
import time
from typing import Any


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def mint(
    project_id: str,
    uid: str,
    *,
    email: str | None = None,
    name: str | None = None,
    admin: bool = False,
    lifetime: int = 3600,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": f"https://securetoken.google.com/{project_id}",
        "aud": project_id,
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "auth_time": now,
        "exp": now + lifetime,
        "firebase": {"sign_in_provider": "password", "identities": {}},
    }
    if email:
        claims["email"] = email
        claims["email_verified"] = True
    if name:
        claims["name"] = name
    if admin:
        claims["admin"] = True
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
