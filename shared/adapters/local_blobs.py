"""A blob store on the local disk whose signed URLs answer as Cloud Storage's do.

`LocalBlobStore.wsgi` is the server side of its URLs; the local stack mounts it at PREFIX. A PUT needs a valid,
unexpired signature bound to path, expiry and content type, and answers 200 like Cloud Storage (comfy-cli
insists on exactly 200); a GET serves the file."""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, unquote, urlencode

from shared.errors import InvalidInput

PREFIX = "/_local/blobs/"
FinalizeHook = Callable[[str, str, int], None]  # (bucket, path, size)


class LocalBlobStore:
    def __init__(
        self,
        root: Path,
        base_url: str,
        signing_key: bytes,
        *,
        bucket: str = "local",
        ttl_seconds: int = 900,
        max_upload_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.bucket = bucket
        self._key = signing_key
        self._ttl = ttl_seconds
        self._max = max_upload_bytes
        self._hooks: list[FinalizeHook] = []
        self._lock = threading.Lock()

    # -- the port --------------------------------------------------------------------------------
    def signed_upload_url(self, path: str, content_type: str) -> str:
        # An HMAC computed in memory: unlike Cloud Storage's signing, nothing here can be unavailable.
        expires = int(time.time()) + self._ttl
        query = urlencode({"expires": expires, "ct": content_type, "sig": self._sign(path, expires, content_type)})
        return f"{self.base_url}{PREFIX}{quote(path)}?{query}"

    def download_url(self, path: str) -> str:
        return f"{self.base_url}{PREFIX}{quote(path)}"

    def exists(self, path: str) -> bool:
        return self._file(path).is_file()

    def read(self, path: str) -> bytes:
        return self._file(path).read_bytes()

    def open_read(self, path: str) -> BinaryIO:
        return self._file(path).open("rb")

    # -- what Cloud Storage would do after an upload ----------------------------------------------
    def on_finalized(self, hook: FinalizeHook) -> None:
        self._hooks.append(hook)

    def write(self, path: str, chunks: Iterable[bytes]) -> int:
        """Store atomically (temp file + rename) so a reader never sees half an archive."""
        target = self._file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self._max:
                        raise InvalidInput("upload too large", code="too_large")
                    out.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for hook in list(self._hooks):
            hook(self.bucket, path, size)
        return size

    # -- helpers ------------------------------------------------------------------------------------
    def _sign(self, path: str, expires: int, content_type: str) -> str:
        message = f"PUT\n{path}\n{expires}\n{content_type}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _file(self, path: str) -> Path:
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            raise InvalidInput(f"bad object path: {path!r}", code="bad_path")
        return self.root.joinpath(*parts)

    def check_signature(self, path: str, query: dict[str, list[str]], content_type: str) -> str | None:
        """None when the PUT may proceed, else the reason it may not."""
        try:
            expires = int(query["expires"][0])
            signed_type, sig = query["ct"][0], query["sig"][0]
        except (KeyError, IndexError, ValueError):
            return "MissingSecurityHeader"
        expected = self._sign(path, expires, signed_type)
        if not hmac.compare_digest(expected, sig):
            return "SignatureDoesNotMatch"
        if expires < time.time():
            return "ExpiredToken"
        if content_type.split(";")[0].strip() != signed_type:
            return "SignatureDoesNotMatch"
        return None

    # -- the HTTP side of the signed URLs (WSGI) ----------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = unquote(environ.get("PATH_INFO", "")[len(PREFIX) :])
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method == "PUT":
                return self._put(environ, start_response, path)
            if method in ("GET", "HEAD"):
                return self._get(start_response, path, head=method == "HEAD")
        except InvalidInput as exc:
            return _xml_error(start_response, "400 Bad Request", "InvalidArgument", exc.message)
        return _xml_error(start_response, "405 Method Not Allowed", "MethodNotAllowed", method)

    def _put(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        reason = self.check_signature(path, query, environ.get("CONTENT_TYPE", ""))
        if reason:
            return _xml_error(start_response, "403 Forbidden", reason, "The request signature is not valid.")
        stream = environ["wsgi.input"]
        remaining = int(environ.get("CONTENT_LENGTH") or 0)

        def chunks() -> Iterable[bytes]:
            nonlocal remaining
            while remaining > 0:
                chunk = stream.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

        size = self.write(path, chunks())
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0"), ("X-Local-Object-Size", str(size))]
        )
        return [b""]

    def _get(self, start_response: Callable[..., Any], path: str, *, head: bool) -> Iterable[bytes]:
        file = self._file(path)
        if not file.is_file():
            return _xml_error(start_response, "404 Not Found", "NoSuchKey", "The specified key does not exist.")
        data = b"" if head else file.read_bytes()
        start_response("200 OK", [("Content-Type", "application/zip"), ("Content-Length", str(file.stat().st_size))])
        return [data]


def _xml_error(start_response: Callable[..., Any], status: str, code: str, message: str) -> Iterable[bytes]:
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]
