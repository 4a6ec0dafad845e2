"""Turns what the caller has (a path, a folder or a file object) into a seekable archive with its hash and size."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from functions.scanner.folder import publish_entries
from functions.scanner.limits import ScanLimits

Source = str | os.PathLike[str] | IO[bytes]
_CHUNK = 1024 * 1024


@dataclass
class OpenedArchive:
    file: IO[bytes]
    size: int | None
    sha256: str | None
    too_large: bool


@contextmanager
def open_archive(source: Source, limits: ScanLimits) -> Iterator[OpenedArchive]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            with _zipped_folder(path, limits) as opened:
                yield opened
            return
        with path.open("rb") as handle:
            yield _hashed(handle, limits)
        return
    if source.seekable():
        yield _hashed(source, limits)
        return
    with _spooled(source, limits) as opened:
        yield opened


def _hashed(handle: IO[bytes], limits: ScanLimits) -> OpenedArchive:
    handle.seek(0, 2)
    size = handle.tell()
    if size > limits.max_archive_bytes:
        # Not worth reading gigabytes to name what is refused anyway.
        return OpenedArchive(handle, size, None, True)
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    handle.seek(0)
    return OpenedArchive(handle, size, digest.hexdigest(), False)


@contextmanager
def _spooled(stream: IO[bytes], limits: ScanLimits) -> Iterator[OpenedArchive]:
    """A stream that cannot seek (an HTTP body) is copied, hashing as it goes, up to the archive limit."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=limits.spool_memory_bytes) as spool:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limits.max_archive_bytes:
                yield OpenedArchive(spool, None, None, True)
                return
            digest.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        yield OpenedArchive(spool, size, digest.hexdigest(), False)


def spool_copy(stream: IO[bytes], *, cap: int | None = None, memory_bytes: int | None = None) -> IO[bytes]:
    """A seekable local copy of at most `cap` bytes of `stream` (all of it without a cap); the caller closes it. The
    scanner judges such a copy and releases the same one, so what is released is exactly what was judged."""
    memory = memory_bytes if memory_bytes is not None else ScanLimits().spool_memory_bytes
    spool = tempfile.SpooledTemporaryFile(max_size=memory)  # noqa: SIM115 - the caller closes it
    try:
        remaining = cap
        while remaining is None or remaining > 0:
            chunk = stream.read(_CHUNK if remaining is None else min(remaining, _CHUNK))
            if not chunk:
                break
            spool.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


@contextmanager
def _zipped_folder(root: Path, limits: ScanLimits) -> Iterator[OpenedArchive]:
    """A folder is scanned as the `node.zip` comfy-cli would publish from it (`folder.py`), built the same way."""
    with tempfile.SpooledTemporaryFile(max_size=limits.spool_memory_bytes) as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, path in publish_entries(root):
                if path is None:
                    archive.writestr(name, b"")  # an include that does not exist: an empty folder entry
                else:
                    archive.write(path, name)  # follows a symbolic link, as comfy-cli's zipfile.write does
        opened = _hashed(spool, limits)
        yield opened
