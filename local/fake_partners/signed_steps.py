"""Fake partners of the live spec whose auth is signed or minted, or whose jobs take steps (answers in
`signed_steps_answers`): the routes they answer, the credential each expects and how it is checked. Tencent's TC3
signature is recomputed here from the secret key (by hand, not with Tencent's SDK the gateway signs with); Vertex AI
and Veo take only access tokens minted by the fake Google token endpoint (`google-token`, which the gateway is pointed
at through PARTNER_BASE_URLS), which checks the service-account JWT assertion against the key's public half."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Request, Response

from local.fake_partners import answers as a
from local.fake_partners import signed_steps_answers as s

GET, POST, PATCH, PUT = "GET", "POST", "PATCH", "PUT"
TOKEN_SECONDS = 3600
_TOKEN_SECRET = "fake-google-token-signing-secret-of-32-bytes"  # noqa: S105  (the fake's own, for its tokens)
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "fake-project",
    "private_key_id": "fake-key-1",
    "private_key": _KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
    "client_email": "gateway@fake-project.iam.gserviceaccount.com",
    "client_id": "1",
    "token_uri": "https://oauth2.googleapis.com/token",
}
_GOOGLE_KEY = json.dumps(SERVICE_ACCOUNT)

CREDENTIALS: dict[str, str] = {
    "tencent": "AKIDfakeSecretId:fake-tencent-secret-key",
    "vertexai": _GOOGLE_KEY,
    "veo": _GOOGLE_KEY,
    "google-token": "unused",  # the token endpoint itself: its base URL is what the gateway needs
    "gemini-interactions": "fake-gemini-api-key",
    "topaz": "fake-topaz-key",
    "rodin": "fake-rodin-key",
    "sonilo": "fake-sonilo-key",
}
HEADER_AUTH: dict[str, str] = {"gemini-interactions": "x-goog-api-key"}


Signed = tuple[str, str, str, str, str, bytes]  # method, path, query, content-type, host, body


def tc3_signature(secret_key: str, signed: Signed, timestamp: str, date: str, service: str) -> str:
    """TC3-HMAC-SHA256, recomputed from what arrived: method, path, query, content-type and host, body digest."""
    method, path, query, content_type, host, body = signed
    canonical = "\n".join(
        (
            method,
            path or "/",
            query,
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = hmac.new(f"TC3{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    key = hmac.new(key, service.encode(), hashlib.sha256).digest()
    key = hmac.new(key, b"tc3_request", hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _tencent_ok(req: Request, expected: str) -> bool:
    secret_id, _, secret_key = expected.partition(":")
    timestamp = req.headers.get("X-TC-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    if req.headers.get("X-TC-Version") != "2023-09-01" or not req.headers.get("X-TC-Action"):
        return False
    date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    url = urlsplit(req.url)
    signed = (
        req.method,
        url.path,
        url.query,
        req.headers.get("Content-Type", ""),
        req.headers.get("Host", ""),
        req.get_data(),
    )
    signature = tc3_signature(secret_key, signed, timestamp, date, "hunyuan")
    wanted = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/hunyuan/tc3_request, SignedHeaders=content-type;host, "
        f"Signature={signature}"
    )
    return hmac.compare_digest(req.headers.get("Authorization", ""), wanted)


def _google_token_ok(req: Request, expected: str) -> bool:
    import jwt

    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    try:
        claims = jwt.decode(token, _TOKEN_SECRET, algorithms=["HS256"], audience="fake-google-apis")
    except jwt.PyJWTError:
        return False
    return scheme == "Bearer" and claims.get("sub") == SERVICE_ACCOUNT["client_email"]


def _topaz_ok(req: Request, expected: str) -> bool:
    if req.method == PUT and "/upload/" in req.path:  # a presigned upload URL: the URL is the permission
        return True
    return req.headers.get("X-API-Key") == expected


def google_token(ctx: a.Context) -> Response:
    """The OAuth2 JWT-bearer grant: the assertion must be signed by the service account's key for this endpoint."""
    import jwt

    form = ctx.request.form
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return a.js({"error": "unsupported_grant_type"}, 400)
    audience = SERVICE_ACCOUNT["token_uri"]  # google-auth addresses its assertion to Google's endpoint, wherever sent
    try:
        claims = jwt.decode(form.get("assertion", ""), _KEY.public_key(), algorithms=["RS256"], audience=audience)
    except jwt.PyJWTError as exc:
        return a.js({"error": "invalid_grant", "error_description": str(exc)}, 400)
    if claims.get("iss") != SERVICE_ACCOUNT["client_email"]:
        return a.js({"error": "invalid_grant"}, 400)
    now = int(time.time())
    access = jwt.encode(
        {"sub": claims["iss"], "aud": "fake-google-apis", "iat": now, "exp": now + TOKEN_SECONDS},
        _TOKEN_SECRET,
        algorithm="HS256",
    )
    return a.js({"access_token": access, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"})


AUTH_CHECKS: dict[str, Callable[[Request, str], bool]] = {
    "tencent": _tencent_ok,
    "vertexai": _google_token_ok,
    "veo": _google_token_ok,
    "google-token": lambda req, expected: True,  # the grant's assertion is checked by `google_token`
    "topaz": _topaz_ok,
}

TABLE: list[tuple[str, str, str, a.Handler]] = [
    ("tencent", POST, r"/?", s.tencent),
    ("google-token", POST, r"/token", google_token),
    ("vertexai", POST, r"/[^/]+:generateContent", s.gemini),
    ("vertexai", POST, r"/[^/]+:predict", s.imagen),
    ("veo", POST, r"/[^/]+:predictLongRunning", s.veo_submit),
    ("veo", POST, r"/[^/]+:fetchPredictOperation", s.veo_poll),
    ("gemini-interactions", POST, r"/interactions", s.interaction_create),
    ("gemini-interactions", GET, r"/interactions/[^/]+", s.interaction_read),
    ("gemini-interactions", GET, r"/files/[^/]+", s.interaction_file),
    ("topaz", POST, r"/image/v1/enhance-gen/async", s.topaz_image_submit),
    ("topaz", GET, r"/image/v1/status/[^/]+", s.topaz_image_status),
    ("topaz", GET, r"/image/v1/download/[^/]+", s.topaz_image_download),
    ("topaz", POST, r"/video/", s.topaz_video_create),
    ("topaz", PATCH, r"/video/[^/]+/accept", s.topaz_video_accept),
    ("topaz", PATCH, r"/video/[^/]+/complete-upload", s.topaz_video_complete),
    ("topaz", GET, r"/video/[^/]+/status", s.topaz_video_status),
    ("topaz", PUT, r"/upload/[^/]+", s.topaz_upload),
    ("rodin", POST, r"/api/v2/rodin", s.rodin_submit),
    ("rodin", POST, r"/api/v2/status", s.rodin_status),
    ("rodin", POST, r"/api/v2/download", s.rodin_download),
    ("sonilo", POST, r"/(t2m|v2m)/generate", s.sonilo),
]
