"""The gateway's way out to partners: one streamed HTTP exchange per call."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class PartnerUnreachable(Exception):
    """The partner could not be reached or did not answer in time (connect error, reset, timeout)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Signing:
    """A credential the transport applies just before sending, because it needs the final request or a vendor
    library: `tc3` signs with Tencent Cloud's TC3-HMAC-SHA256 (`SECRET_ID:SECRET_KEY`, over the body and the signed
    headers); `google` puts a Google OAuth2 access token minted from a service-account JSON key (cached until near
    its expiry) in `Authorization`."""

    scheme: str  # "tc3" | "google"
    credential: str = field(repr=False)
    service: str = ""  # tc3: the service named in the signature's scope ("hunyuan")
    token_uri: str = ""  # google: a token endpoint in place of the key's own `token_uri` (a local fake)


@dataclass(frozen=True)
class Outbound:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    params: tuple[tuple[str, str], ...] = ()
    timeout_seconds: float = 120.0
    signing: Signing | None = None  # applied by the transport as the request leaves


class PartnerAnswer(Protocol):
    """A partner's answer whose body has not been read yet: read it whole (`read`), or in pieces as they arrive
    (`chunks`); `close` ends the exchange (and cancels it upstream if the body was not read to the end)."""

    status: int
    headers: Mapping[str, str]  # case-insensitive

    def read(self, limit: int) -> bytes:
        """The whole body; PartnerUnreachable if it is longer than `limit` or breaks off."""
        ...

    def chunks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class PartnerTransport(Protocol):
    def send(self, request: Outbound) -> PartnerAnswer:
        """Send `request` and return once the partner's status and headers arrived; PartnerUnreachable otherwise."""
        ...

    def close(self) -> None: ...
