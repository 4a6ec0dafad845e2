"""The Cloud Storage blob store: V4 signed PUT URLs for uploads, public GET URLs for downloads.

`google.cloud.storage` and `google.auth` are imported inside methods only, so a function that never
touches uploads does not pay for them on a cold start."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, BinaryIO
from urllib.parse import quote

from shared.errors import BlobStoreUnavailable

log = logging.getLogger(__name__)

_GCS = "https://storage.googleapis.com"
# cloud-platform covers both the storage calls and IAM signBlob (used when signing remotely).
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class GcsBlobStore:
    def __init__(
        self,
        bucket: str,
        *,
        project: str,
        ttl_seconds: int = 900,
        endpoint: str | None = None,
        public_base_url: str | None = None,
        credentials: Any = None,
    ) -> None:
        self.bucket = bucket
        self._project = project
        self._ttl = ttl_seconds
        # STORAGE_EMULATOR_HOST is often given without a scheme ("127.0.0.1:9023").
        if endpoint and "://" not in endpoint:
            endpoint = f"http://{endpoint}"
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        # Against the emulator, the emulator itself serves the objects.
        self._public = (public_base_url or self._endpoint or _GCS).rstrip("/")
        self._credentials = credentials
        # Built on first use; two racing first requests only build a spare client.
        self._client: Any = None

    # -- the port --------------------------------------------------------------------------------
    def signed_upload_url(self, path: str, content_type: str) -> str:
        with _unavailable_on_outage("signing an upload URL"):
            return self._sign_upload(path, content_type)

    def _sign_upload(self, path: str, content_type: str) -> str:
        signer = self._signing_credentials()
        kwargs: dict[str, Any] = {}
        if not _can_sign_locally(signer):
            # Cloud Functions' metadata-server credentials hold no private key: the library then
            # signs through IAM signBlob, as this service account, with its (unexpired) token.
            from google.auth.transport.requests import Request

            if not signer.valid:
                signer.refresh(Request())
            kwargs = {
                "service_account_email": signer.service_account_email,
                "access_token": signer.token,
            }
        blob = self._bucket().blob(path)
        return str(
            blob.generate_signed_url(
                version="v4",
                method="PUT",
                content_type=content_type,  # signed header: any other Content-Type is refused
                expiration=timedelta(seconds=self._ttl),
                api_access_endpoint=self._endpoint or _GCS,
                credentials=signer,
                **kwargs,
            )
        )

    def download_url(self, path: str) -> str:
        # The library's quoting of object names; the uploads bucket's objects are public.
        return f"{self._public}/{self.bucket}/{quote(path, safe='/~')}"

    def exists(self, path: str) -> bool:
        return bool(self._bucket().blob(path).exists())

    def read(self, path: str) -> bytes:
        from google.api_core.exceptions import NotFound

        try:
            return bytes(self._bucket().blob(path).download_as_bytes())
        # Raise what LocalBlobStore raises for a missing object, so callers handle one error.
        except NotFound as exc:
            raise FileNotFoundError(path) from exc

    def open_read(self, path: str) -> BinaryIO:
        from google.api_core.exceptions import NotFound

        blob = self._bucket().blob(path)
        try:
            blob.reload()  # fails fast for a missing object, before the caller starts reading
        except NotFound as exc:
            raise FileNotFoundError(path) from exc
        handle: BinaryIO = blob.open("rb")
        return handle

    # -- helpers ------------------------------------------------------------------------------------
    def _signing_credentials(self) -> Any:
        if self._credentials is None:
            import google.auth

            self._credentials, _ = google.auth.default(scopes=list(_SCOPES))
        return self._credentials

    def _bucket(self) -> Any:
        if self._client is None:
            from google.cloud import storage

            if self._endpoint:
                # The emulator takes no auth; the credentials are only used to sign URLs.
                from google.auth.credentials import AnonymousCredentials

                self._client = storage.Client(
                    project=self._project,
                    credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                    client_options={"api_endpoint": self._endpoint},
                )
            else:
                self._client = storage.Client(project=self._project, credentials=self._signing_credentials())
        return self._client.bucket(self.bucket)


@contextmanager
def _unavailable_on_outage(operation: str) -> Iterator[None]:
    """Turn the failures of Google's services (finding or refreshing credentials, IAM signBlob, the network) into
    the port's BlobStoreUnavailable; anything else, such as a TypeError, is a bug and passes through."""
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError

    try:
        yield
    # OSError covers the transport's own errors too (requests' exceptions derive from it).
    except (GoogleAuthError, GoogleAPIError, OSError) as exc:
        log.warning("blob store unavailable while %s: %s: %s", operation, type(exc).__name__, exc)
        raise BlobStoreUnavailable() from exc


def _can_sign_locally(credentials: Any) -> bool:
    from google.auth.credentials import Signing

    return isinstance(credentials, Signing)
