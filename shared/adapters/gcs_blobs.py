"""The Cloud Storage blob store: uploads land in a private quarantine bucket through V4 signed PUT URLs; released
archives are copied into a public releases bucket, create-only; quarantined objects are read by others only through
short-lived signed GET URLs.

What the clients allow: comfy-cli PUTs the archive with a Content-Type header and nothing else, so a signed URL can
bind the content type but no `x-goog-if-generation-match` or `x-goog-content-length-range` header (a signed header
the client does not send fails the upload). Create-only uploads are therefore kept by the quarantine bucket's
retention policy (Terraform): Cloud Storage refuses to replace a stored object while it is retained, which outlasts
every URL. Nothing a late or repeated PUT writes is ever served: releases are copies of the bytes the scanner
judged, checked by SHA-256 and stored with `if_generation_match=0`.

`google.cloud.storage` and `google.auth` are imported inside methods only, so a function that never touches
archives does not pay for them on a cold start."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, Any, BinaryIO
from urllib.parse import quote

from shared import archives
from shared.archives import ARCHIVE_TYPE
from shared.errors import ArchiveMismatch, BlobStoreUnavailable

log = logging.getLogger(__name__)

_GCS = "https://storage.googleapis.com"
# cloud-platform covers both the storage calls and IAM signBlob (used when signing remotely).
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Released objects are public: no edge cache may keep one after it is withdrawn.
RELEASE_CACHE_CONTROL = "no-cache"


class GcsBlobStore:
    def __init__(
        self,
        bucket: str,
        *,
        releases_bucket: str,
        project: str,
        ttl_seconds: int = 900,
        download_ttl_seconds: int = 300,
        endpoint: str | None = None,
        public_base_url: str | None = None,
        credentials: Any = None,
    ) -> None:
        self.bucket = bucket
        self.releases_bucket = releases_bucket
        self._project = project
        self._ttl = ttl_seconds
        self._download_ttl = download_ttl_seconds
        # STORAGE_EMULATOR_HOST is often given without a scheme ("127.0.0.1:9023").
        if endpoint and "://" not in endpoint:
            endpoint = f"http://{endpoint}"
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        # Against the emulator, the emulator itself serves the objects.
        self._public = (public_base_url or self._endpoint or _GCS).rstrip("/")
        self._credentials = credentials
        # Built on first use; two racing first requests only build a spare client.
        self._client: Any = None

    # -- the quarantine -------------------------------------------------------------------------------------------
    def signed_upload_url(self, path: str, content_type: str, max_bytes: int) -> str:
        # max_bytes cannot be signed into a URL the client uses as is (see the module's docstring); the scanner
        # reads at most one byte past its archive limit and judges a larger upload too large.
        with _unavailable_on_outage("signing an upload URL"):
            return self._sign(path, "PUT", self._ttl, content_type=content_type)

    def signed_download_url(self, path: str) -> str:
        with _unavailable_on_outage("signing a download URL"):
            return self._sign(path, "GET", self._download_ttl)

    def _sign(self, path: str, method: str, ttl: int, *, content_type: str | None = None) -> str:
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
        if content_type is not None:
            kwargs["content_type"] = content_type  # a signed header: any other Content-Type is refused
        blob = self._bucket(self.bucket).blob(path)
        return str(
            blob.generate_signed_url(
                version="v4",
                method=method,
                expiration=timedelta(seconds=ttl),
                api_access_endpoint=self._endpoint or _GCS,
                credentials=signer,
                **kwargs,
            )
        )

    def exists(self, path: str) -> bool:
        with _unavailable_on_outage("looking up an upload"):
            return bool(self._bucket(self.bucket).blob(path).exists())

    def open_read(self, path: str) -> BinaryIO:
        from google.api_core.exceptions import NotFound

        blob = self._bucket(self.bucket).blob(path)
        try:
            blob.reload()  # fails fast for a missing object, before the caller starts reading
        except NotFound as exc:
            raise FileNotFoundError(path) from exc
        # reload() set the blob's generation, which every read then names: a replacement cannot slip in halfway.
        handle: BinaryIO = blob.open("rb")
        return handle

    # -- the releases ---------------------------------------------------------------------------------------------
    def release(self, path: str, data: IO[bytes], sha256: str) -> None:
        from google.api_core.exceptions import PreconditionFailed

        start = data.tell()
        if archives.digest(data)[0] != sha256:
            raise ArchiveMismatch(f"the bytes to release at {path} are not the judged ones")
        data.seek(start)
        blob = self._bucket(self.releases_bucket).blob(path)
        with _unavailable_on_outage("releasing an archive"):
            if blob.exists():  # the precondition below is the guarantee; this also keeps emulators honest
                self._same_release(blob, path, sha256)
                return
            blob.metadata = {"sha256": sha256}
            blob.cache_control = RELEASE_CACHE_CONTROL
            try:
                blob.upload_from_file(data, content_type=ARCHIVE_TYPE, if_generation_match=0, checksum="crc32c")
            except PreconditionFailed:
                self._same_release(blob, path, sha256)

    def _same_release(self, blob: Any, path: str, sha256: str) -> None:
        blob.reload()
        if (blob.metadata or {}).get("sha256") != sha256:
            raise ArchiveMismatch(f"another archive is already released at {path}")

    def withdraw(self, path: str) -> None:
        from google.api_core.exceptions import NotFound

        with _unavailable_on_outage("withdrawing an archive"), contextlib.suppress(NotFound):
            self._bucket(self.releases_bucket).blob(path).delete()

    def release_url(self, path: str) -> str:
        # The library's quoting of object names; the releases bucket's objects are public.
        return f"{self._public}/{self.releases_bucket}/{quote(path, safe='/~')}"

    def is_released(self, path: str) -> bool:
        with _unavailable_on_outage("looking up a release"):
            return bool(self._bucket(self.releases_bucket).blob(path).exists())

    # -- data the functions keep for themselves -------------------------------------------------------------------
    def write_data(self, path: str, data: bytes) -> None:
        blob = self._bucket(self.releases_bucket).blob(path)
        blob.cache_control = RELEASE_CACHE_CONTROL
        with _unavailable_on_outage("storing data"):
            blob.upload_from_string(data, content_type="application/json", checksum="crc32c")

    def read_data(self, path: str) -> bytes | None:
        from google.api_core.exceptions import NotFound

        with _unavailable_on_outage("reading data"):
            try:
                return bytes(self._bucket(self.releases_bucket).blob(path).download_as_bytes())
            except NotFound:
                return None

    # -- helpers ------------------------------------------------------------------------------------
    def _signing_credentials(self) -> Any:
        if self._credentials is None:
            import google.auth

            self._credentials, _ = google.auth.default(scopes=list(_SCOPES))
        return self._credentials

    def _bucket(self, name: str) -> Any:
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
        return self._client.bucket(name)


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
