"""A blob store on the local disk that keeps Cloud Storage's rules, for the local stack and tests.

Two buckets under `root`: the quarantine (`incoming`), written only through signed, create-only, size-bounded PUT
URLs and read by others only through signed GET URLs, and the releases, which only `release()` writes and anyone
may read. `LocalBlobStore.wsgi` is the HTTP side of its URLs (the local stack mounts it at PREFIX): it answers as
Cloud Storage's XML API does, 200 for a stored PUT (comfy-cli insists on exactly 200), 412 for a PUT of an object
already stored, 400 EntityTooLarge past the signed bound, 403 for a bad or expired signature."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import parse_qs, quote, unquote, urlencode
from xml.sax.saxutils import escape

from werkzeug.wsgi import get_input_stream

from shared import archives
from shared.errors import ArchiveMismatch, InvalidInput

log = logging.getLogger(__name__)

PREFIX = "/_local/blobs/"
PARTIAL_PREFIX = ".upload-"
CHUNK = 1 << 16
FinalizeHook = Callable[[str, str, int], None]  # (bucket, path, size)


class ObjectExists(Exception):
    """A create-only write met an object already stored (Cloud Storage's 412 PreconditionFailed)."""


class TooLarge(Exception):
    """More bytes than the signed bound allows (Cloud Storage's 400 EntityTooLarge)."""


def persistent_key(path: Path) -> bytes:
    """The signing key kept in `path`, made on first use (0600), so signed URLs outlive a restart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = os.urandom(32).hex().encode()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


class LocalBlobStore:
    def __init__(
        self,
        root: Path,
        base_url: str,
        signing_key: bytes,
        *,
        incoming_bucket: str = "incoming",
        releases_bucket: str = "releases",
        ttl_seconds: int = 900,
        download_ttl_seconds: int = 300,
    ) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.bucket = incoming_bucket
        self.releases_bucket = releases_bucket
        self._key = signing_key
        self._ttl = ttl_seconds
        self._download_ttl = download_ttl_seconds
        self._hooks: list[FinalizeHook] = []
        self._lock = threading.Lock()

    # -- the quarantine -------------------------------------------------------------------------------------------
    def signed_upload_url(self, path: str, content_type: str, max_bytes: int) -> str:
        # An HMAC computed in memory: unlike Cloud Storage's signing, nothing here can be unavailable.
        self._file(self.bucket, path)  # refuses a bad name now, not at upload time
        expires = int(time.time()) + self._ttl
        sig = self._sign("PUT", self.bucket, path, expires, content_type, max_bytes)
        query = urlencode({"expires": expires, "ct": content_type, "max": max_bytes, "sig": sig})
        return f"{self._url(self.bucket, path)}?{query}"

    def signed_download_url(self, path: str) -> str:
        expires = int(time.time()) + self._download_ttl
        sig = self._sign("GET", self.bucket, path, expires)
        return f"{self._url(self.bucket, path)}?{urlencode({'expires': expires, 'sig': sig})}"

    def exists(self, path: str) -> bool:
        return self._file(self.bucket, path).is_file()

    def open_read(self, path: str) -> BinaryIO:
        return self._file(self.bucket, path).open("rb")

    def on_finalized(self, hook: FinalizeHook) -> None:
        """Call `hook` after each stored upload, as Cloud Storage's object.finalized trigger would."""
        self._hooks.append(hook)

    def write(self, path: str, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> int:
        """Store an upload in the quarantine, create-only and atomically, then tell the finalize hooks."""
        size = self._create(self._file(self.bucket, path), chunks, max_bytes=max_bytes)
        for hook in list(self._hooks):
            hook(self.bucket, path, size)
        return size

    # -- the releases ---------------------------------------------------------------------------------------------
    def release(self, path: str, data: IO[bytes], sha256: str) -> None:
        target = self._file(self.releases_bucket, path)
        digest = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            while chunk := data.read(CHUNK):
                digest.update(chunk)
                yield chunk

        try:
            self._create(target, chunks(), check=lambda: digest.hexdigest() == sha256)
        except ObjectExists:
            with target.open("rb") as stored:
                same = archives.digest(stored)[0] == sha256
            if not same:
                raise ArchiveMismatch(f"another archive is already released at {path}") from None
        except _DigestMismatch:
            raise ArchiveMismatch(f"the bytes to release at {path} are not the judged ones") from None

    def withdraw(self, path: str) -> None:
        self._file(self.releases_bucket, path).unlink(missing_ok=True)

    def release_url(self, path: str) -> str:
        return self._url(self.releases_bucket, path)

    def is_released(self, path: str) -> bool:
        return self._file(self.releases_bucket, path).is_file()

    # -- data the functions keep for themselves -------------------------------------------------------------------
    def write_data(self, path: str, data: bytes) -> None:
        """Replaced atomically: a reader sees the old object or the new one, never half of it."""
        target = self._file(self.releases_bucket, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=PARTIAL_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def read_data(self, path: str) -> bytes | None:
        target = self._file(self.releases_bucket, path)
        return target.read_bytes() if target.is_file() else None

    # -- housekeeping ---------------------------------------------------------------------------------------------
    def remove_partial_uploads(self) -> int:
        """Delete what a crash left half-written (temp files are only ever renamed into place when complete)."""
        removed = 0
        if self.root.is_dir():
            for leftover in self.root.rglob(PARTIAL_PREFIX + "*"):
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- helpers --------------------------------------------------------------------------------------------------
    def _create(
        self,
        target: Path,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        check: Callable[[], bool] | None = None,
    ) -> int:
        """Write to a temp file, then link it into place: a reader never sees half an object, and linking fails when
        the name is taken, which makes the write create-only even between processes."""
        if target.exists():
            raise ObjectExists(str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=PARTIAL_PREFIX)
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(str(target))
                    out.write(chunk)
            if check is not None and not check():
                raise _DigestMismatch(str(target))
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise ObjectExists(str(target)) from None
        finally:
            Path(tmp).unlink(missing_ok=True)
        return size

    def _sign(self, method: str, bucket: str, path: str, expires: int, *extra: object) -> str:
        message = "\n".join([method, bucket, path, str(expires), *(str(e) for e in extra)]).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _url(self, bucket: str, path: str) -> str:
        return f"{self.base_url}{PREFIX}{bucket}/{quote(path)}"

    def _file(self, bucket: str, path: str) -> Path:
        parts = [p for p in path.split("/") if p]
        if not parts or any(
            p in (".", "..") or p.startswith(PARTIAL_PREFIX) or "\\" in p or "\x00" in p for p in parts
        ):
            raise InvalidInput(f"bad object path: {path!r}", code="bad_path")
        return self.root.joinpath(bucket, *parts)

    def _verify(self, method: str, path: str, query: dict[str, list[str]], *extra_names: str) -> str | None:
        """None when the signed request may proceed, else Cloud Storage's error code for why not."""
        try:
            expires = int(query["expires"][0])
            extra = [query[name][0] for name in extra_names]
            sig = query["sig"][0]
        except (KeyError, IndexError, ValueError):
            return "MissingSecurityHeader"
        if not hmac.compare_digest(self._sign(method, self.bucket, path, expires, *extra), sig):
            return "SignatureDoesNotMatch"
        if expires < time.time():
            return "ExpiredToken"
        return None

    # -- the HTTP side of the URLs (WSGI) -------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        bucket, _, path = unquote(environ.get("PATH_INFO", "")[len(PREFIX) :]).partition("/")
        method = environ.get("REQUEST_METHOD", "GET")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            if bucket not in (self.bucket, self.releases_bucket):
                return _xml_error(start_response, "404 Not Found", "NoSuchBucket", "The bucket does not exist.")
            if method == "PUT" and bucket == self.bucket:
                return self._put(environ, start_response, path, query)
            if method in ("GET", "HEAD"):
                return self._get(start_response, bucket, path, query, head=method == "HEAD")
        except InvalidInput as exc:
            return _xml_error(start_response, "400 Bad Request", "InvalidArgument", exc.message)
        return _xml_error(start_response, "405 Method Not Allowed", "MethodNotAllowed", f"{method} is not allowed.")

    def _put(
        self, environ: dict[str, Any], start_response: Callable[..., Any], path: str, query: dict[str, list[str]]
    ) -> Iterable[bytes]:
        reason = self._verify("PUT", path, query, "ct", "max")
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip()
        if reason is None and content_type != query["ct"][0]:
            reason = "SignatureDoesNotMatch"  # the content type is part of what was signed
        if reason:
            return _xml_error(start_response, "403 Forbidden", reason, "The request signature is not valid.")
        max_bytes = int(query["max"][0])
        declared = environ.get("CONTENT_LENGTH")
        try:
            if declared and int(declared) > max_bytes:
                raise TooLarge(path)
            # Chunked or sized alike: the dev server decodes chunked bodies and marks the stream terminated.
            stream = get_input_stream(environ, safe_fallback=False)
            size = self.write(path, iter(lambda: stream.read(CHUNK), b""), max_bytes=max_bytes)
        except TooLarge:
            return _xml_error(
                start_response, "400 Bad Request", "EntityTooLarge", f"The upload is larger than {max_bytes} bytes."
            )
        except ObjectExists:
            log.warning("refused a second upload of %s: objects are create-only", path)
            return _xml_error(
                start_response,
                "412 Precondition Failed",
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
            )
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0"), ("X-Local-Object-Size", str(size))]
        )
        return [b""]

    def _get(
        self,
        start_response: Callable[..., Any],
        bucket: str,
        path: str,
        query: dict[str, list[str]],
        *,
        head: bool,
    ) -> Iterable[bytes]:
        if bucket == self.bucket and (reason := self._verify("GET", path, query)):
            # The quarantine is private: only a signed URL from the registry reads it.
            return _xml_error(start_response, "403 Forbidden", "AccessDenied", f"Access denied ({reason}).")
        file = self._file(bucket, path)
        if not file.is_file():
            return _xml_error(start_response, "404 Not Found", "NoSuchKey", "The specified key does not exist.")
        size = file.stat().st_size
        start_response(
            "200 OK",
            [("Content-Type", "application/zip"), ("Content-Length", str(size)), ("Cache-Control", "no-cache")],
        )
        return [b""] if head else _stream(file)


class _DigestMismatch(Exception):
    pass


def _stream(file: Path) -> Iterator[bytes]:
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _xml_error(start_response: Callable[..., Any], status: str, code: str, message: str) -> Iterable[bytes]:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]
