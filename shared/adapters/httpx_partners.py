"""The gateway's PartnerTransport over httpx: one pooled client, streamed bodies, connect and read timeouts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from shared.proxy.ports import Outbound, PartnerUnreachable

if TYPE_CHECKING:
    import httpx

CONNECT_SECONDS = 10.0


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
        built = client.build_request(
            request.method,
            request.url,
            headers=dict(request.headers),
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
