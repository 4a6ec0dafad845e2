"""The gateway's PartnerTransport over httpx: one pooled client, streamed bodies, connect and read timeouts; a
request that carries a `Signing` is signed as it leaves (Tencent Cloud's TC3 by `tencentcloud-sdk-python-common`,
Google's OAuth2 tokens by `google-auth`, minted through this same client and kept until near their expiry)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shared.proxy.ports import Outbound, PartnerUnreachable, Signing

if TYPE_CHECKING:
    import httpx

CONNECT_SECONDS = 10.0
TOKEN_SECONDS = 30.0
GOOGLE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class HttpxAnswer:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    def read(self, limit: int) -> bytes:
        parts, size = [], 0
        for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                self.close()
                raise PartnerUnreachable(f"the partner's answer is longer than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def chunks(self) -> Iterator[bytes]:
        import httpx

        try:
            yield from self._response.iter_raw()
        except httpx.HTTPError as exc:
            raise PartnerUnreachable(f"the partner's answer broke off: {type(exc).__name__}") from None
        finally:
            self._response.close()

    def close(self) -> None:
        self._response.close()


class HttpxPartnerTransport:
    def __init__(self, transport: Any = None) -> None:
        """`transport`: an httpx transport in place of the network (httpx.MockTransport in unit tests)."""
        self._transport = transport
        self._client: httpx.Client | None = None
        self._google: dict[tuple[str, str], Any] = {}  # (key digest, token endpoint) -> google-auth credentials
        self._google_lock = threading.Lock()

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            self._client = httpx.Client(transport=self._transport, limits=limits, follow_redirects=False)
        return self._client

    def send(self, request: Outbound) -> HttpxAnswer:
        import httpx

        client = self._http()
        timeout = httpx.Timeout(request.timeout_seconds, connect=min(CONNECT_SECONDS, request.timeout_seconds))
        headers = dict(request.headers)
        if request.signing is not None:
            headers.update(self.signed_headers(request, request.signing))
        built = client.build_request(
            request.method,
            request.url,
            headers=headers,
            content=request.body or None,
            params=request.params or None,
            timeout=timeout,
        )
        try:
            return HttpxAnswer(client.send(built, stream=True))
        except httpx.TimeoutException as exc:
            raise PartnerUnreachable(
                f"the partner did not answer in time ({type(exc).__name__})", timed_out=True
            ) from None
        except httpx.HTTPError as exc:
            raise PartnerUnreachable(f"the partner could not be reached ({type(exc).__name__})") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- signing ------------------------------------------------------------------------------------------------------
    def signed_headers(self, request: Outbound, signing: Signing, *, now: float | None = None) -> dict[str, str]:
        """The headers that carry the signature (or token) for `request` as it is about to be sent."""
        if signing.scheme == "tc3":
            return tc3_headers(request, signing, int(now if now is not None else time.time()))
        if signing.scheme == "google":
            return {"Authorization": f"Bearer {self.google_token(signing)}"}
        raise PartnerUnreachable(f"unknown signing scheme {signing.scheme!r}")

    def google_token(self, signing: Signing) -> str:
        """An access token for the service-account key, minted once and reused until near its expiry (google-auth
        refreshes a few minutes early)."""
        from google.auth import exceptions
        from google.oauth2 import service_account

        key = (hashlib.sha256(signing.credential.encode()).hexdigest(), signing.token_uri)
        with self._google_lock:
            credentials = self._google.get(key)
            try:
                if credentials is None:
                    info = json.loads(signing.credential)
                    if signing.token_uri:
                        info["token_uri"] = signing.token_uri
                    credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                        info, scopes=GOOGLE_SCOPES
                    )
                    self._google[key] = credentials
                if not credentials.valid:
                    credentials.refresh(_GoogleAuthRequest(self._http()))
            except (ValueError, KeyError, exceptions.GoogleAuthError) as exc:
                raise PartnerUnreachable(f"no Google access token ({type(exc).__name__})") from None
            return str(credentials.token)


def tc3_headers(request: Outbound, signing: Signing, timestamp: int) -> dict[str, str]:
    """Tencent Cloud API 3.0's TC3-HMAC-SHA256 over the method, path, query, the signed `content-type` and `host`
    headers and the body's SHA-256; the keyed digest is the SDK's (`Sign.sign_tc3`)."""
    from tencentcloud.common.sign import Sign

    secret_id, _, secret_key = signing.credential.partition(":")
    url = urlsplit(request.url)
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "").strip()
    canonical = "\n".join(
        (
            request.method,
            url.path or "/",
            url.query,
            f"content-type:{content_type}\nhost:{url.netloc}\n",
            "content-type;host",
            hashlib.sha256(request.body).hexdigest(),
        )
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{signing.service}/tc3_request"
    to_sign = "\n".join(("TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()))
    signature = Sign.sign_tc3(secret_key, date, signing.service, to_sign)
    return {
        "Authorization": (
            f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
        ),
        "X-TC-Timestamp": str(timestamp),
    }


class _GoogleAuthResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.data = response.content


class _GoogleAuthRequest:
    """google-auth's transport (`google.auth.transport.Request`) over the gateway's own httpx client."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _GoogleAuthResponse:
        import httpx
        from google.auth import exceptions

        try:
            answer = self._client.request(
                method, url, content=body, headers=dict(headers or {}), timeout=timeout or TOKEN_SECONDS
            )
        except httpx.HTTPError as exc:
            raise exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"token endpoint unreachable: {type(exc).__name__}"
            ) from None
        return _GoogleAuthResponse(answer)
