"""Streaming, bounded reading of a zip archive: members come out one at a time, in memory, never on disk.

Every limit is checked on the bytes actually decompressed; the sizes in the headers are only used to refuse
early. Only the members the rules read keep their content, and at most a bounded prefix of it.

Wheels and zips inside the pack are opened one level deep (a spooled copy, on disk past `spool_memory_bytes`) and
their files come out after the archive itself, named `outer.zip!inner/path.py`, under the same limits: their entries
count towards `max_files`, their bytes towards the decompressed total, and each entry passes the same name, type,
ratio and layout checks. A member named like an archive that is not a zip is only the file it is.
"""

from __future__ import annotations

import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from functions.scanner.limits import ScanLimits
from functions.scanner.report import ArchiveStats
from functions.scanner.zipguard import (
    ArchiveRejected,
    check_central_directory,
    check_duplicates,
    check_entry,
    check_layout,
    check_name,
    check_start,
)

CHUNK = 64 * 1024
HEAD = 4096  # enough for every magic number we look at, PE's header offset included

# What zipfile and zlib raise on a damaged archive; each becomes a rejection with a reason, never a crash.
MALFORMED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    KeyError,
    IndexError,
    OverflowError,
)


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    size: int
    compressed_size: int
    head: bytes
    content: bytes | None  # None unless the rules asked for this member
    truncated: bool  # the content is a prefix: the file was larger than what we keep


KeepPolicy = Callable[[str], int]
"""For a member's path, how many bytes of its content to keep (0: none)."""

NESTED_SUFFIXES = (".zip", ".whl")
NESTED_SEPARATOR = "!"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_nested_archive(name: str) -> bool:
    return NESTED_SEPARATOR not in name and name.lower().endswith(NESTED_SUFFIXES)


def archive_size(fp: IO[bytes]) -> int:
    fp.seek(0, 2)
    size = fp.tell()
    fp.seek(0)
    return size


def iter_members(fp: IO[bytes], limits: ScanLimits, keep: KeepPolicy, stats: ArchiveStats) -> Iterator[Member]:
    """Yields the archive's files in storage order; raises ArchiveRejected at the first hostile sign."""
    try:
        size = archive_size(fp)
        if size > limits.max_archive_bytes:
            raise ArchiveRejected(f"archive of {size} bytes exceeds {limits.max_archive_bytes}", "too_large")
        yield from _members(fp, size, limits, keep, stats, _Budget(limits.max_total_uncompressed_bytes), "")
    except MALFORMED as exc:
        raise ArchiveRejected(f"malformed archive: {_describe(exc)}") from exc


def _members(
    fp: IO[bytes], size: int, limits: ScanLimits, keep: KeepPolicy, stats: ArchiveStats, budget: _Budget, prefix: str
) -> Iterator[Member]:
    check_start(fp)
    check_central_directory(fp, size, limits)
    fp.seek(0)
    with zipfile.ZipFile(fp) as archive:
        infos = _checked_infos(archive, limits, stats)
        try:
            for info in infos:
                name = prefix + info.orig_filename
                if prefix or not is_nested_archive(name):
                    yield _read_member(archive, info, limits, keep(name), budget, name)
                else:
                    with tempfile.SpooledTemporaryFile(max_size=limits.spool_memory_bytes) as copy:
                        yield _read_member(archive, info, limits, keep(name), budget, name, copy)
                        yield from _nested(copy, name, limits, keep, stats, budget)
        finally:
            stats.uncompressed_bytes = budget.used  # once, not per member: a pydantic attribute costs a microsecond


def _nested(
    copy: IO[bytes], name: str, limits: ScanLimits, keep: KeepPolicy, stats: ArchiveStats, budget: _Budget
) -> Iterator[Member]:
    """The files of a wheel or zip inside the pack; a rejection names the inner archive."""
    size = archive_size(copy)
    if copy.read(4) not in _ZIP_MAGIC:
        return  # named like an archive, but not a zip: the binaries rule has seen its head
    try:
        yield from _members(copy, size, limits, keep, stats, budget, name + NESTED_SEPARATOR)
    except ArchiveRejected as exc:
        raise ArchiveRejected(f"in {name}: {exc.reason}", exc.code) from exc
    except MALFORMED as exc:
        raise ArchiveRejected(f"in {name}: malformed archive: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:300]


def _checked_infos(archive: zipfile.ZipFile, limits: ScanLimits, stats: ArchiveStats) -> list[zipfile.ZipInfo]:
    """The entries' checks; the counts add to `stats`, so nested archives share the outer one's entry limit."""
    infos = archive.infolist()
    entries = len(infos) + stats.files + stats.directories
    if entries > limits.max_files:
        raise ArchiveRejected(f"{entries} entries, more than the limit of {limits.max_files}", "too_many_files")
    names = [check_name(info, limits) for info in infos]
    check_duplicates(names)
    declared = 0
    for info in infos:
        check_entry(info)
        if info.file_size > limits.max_file_bytes:
            raise ArchiveRejected(f"{info.orig_filename!r} declares {info.file_size} bytes", "file_too_large")
        declared += info.file_size
    if declared > limits.max_total_uncompressed_bytes:
        raise ArchiveRejected(f"entries declare {declared} bytes uncompressed in total", "too_large")
    check_layout(infos, archive.start_dir)
    files = [info for info in infos if not info.orig_filename.endswith("/")]
    stats.files += len(files)
    stats.directories += len(infos) - len(files)
    return sorted(files, key=lambda i: i.header_offset)  # sequential reads of the archive


class _Budget:
    """The running total of decompressed bytes over the whole archive."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, amount: int) -> None:
        self.used += amount
        if self.used > self.limit:
            raise ArchiveRejected(f"more than {self.limit} bytes once decompressed", "too_large")


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: ScanLimits,
    keep_bytes: int,
    budget: _Budget,
    name: str,
    copy: IO[bytes] | None = None,
) -> Member:
    """One member, decompressed in chunks under every limit; `copy` receives all of it (a nested archive)."""
    if copy is None and info.file_size < CHUNK and _plain(info):
        data = _small_bytes(archive.fp, info)  # type: ignore[arg-type]
        _grew(name, info, limits, budget, len(data), len(data))
        return _member(name, info, len(data), data[:HEAD], data[:keep_bytes], keep_bytes)
    head = bytearray()
    kept = bytearray()
    size = 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            _grew(name, info, limits, budget, len(chunk), size)
            if len(head) < HEAD:
                head += chunk[: HEAD - len(head)]
            if len(kept) < keep_bytes:
                kept += chunk[: keep_bytes - len(kept)]
            if copy is not None:
                copy.write(chunk)
    return _member(name, info, size, bytes(head), bytes(kept), keep_bytes)


def _grew(name: str, info: zipfile.ZipInfo, limits: ScanLimits, budget: _Budget, added: int, size: int) -> None:
    """The limits on what came out so far: the archive's running total, the file's size and its expansion."""
    budget.spend(added)
    if size > limits.max_file_bytes:
        raise ArchiveRejected(f"{name!r} is larger than {limits.max_file_bytes} bytes", "file_too_large")
    if size > limits.ratio_min_bytes and size > limits.max_compression_ratio * max(info.compress_size, 1):
        raise ArchiveRejected(f"{name!r} expands more than {limits.max_compression_ratio:g} times (zip bomb)", "bomb")


def _member(name: str, info: zipfile.ZipInfo, size: int, head: bytes, kept: bytes, keep_bytes: int) -> Member:
    return Member(
        name=name,
        size=size,
        compressed_size=info.compress_size,
        head=head,
        content=kept if keep_bytes else None,
        truncated=size > keep_bytes > 0,
    )


_LOCAL = struct.Struct("<4s22xHH")  # signature, then (past versions, flags, method, time, CRC and sizes) name and extra
_PLAIN_FLAGS = 0x0002 | 0x0004 | 0x0008 | 0x0800  # deflate level, data descriptor, UTF-8 names


def _plain(info: zipfile.ZipInfo) -> bool:
    return info.compress_size < CHUNK and not info.flag_bits & ~_PLAIN_FLAGS


def _small_bytes(fp: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    """A small stored or deflated member read straight from its local header: zipfile.open costs five times the
    read itself on a tiny file. zipfile's checks: the local header's name is the directory's, no more bytes come
    out than declared (decompressed at most one past it; fewer is how zipfile reads an overstated size too), and
    the CRC is right."""
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL.size)
    if len(header) < _LOCAL.size:
        raise zipfile.BadZipFile(f"truncated local header of {info.orig_filename!r}")
    signature, name_length, extra_length = _LOCAL.unpack(header)
    encoded = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if signature != b"PK\x03\x04" or fp.read(name_length) != encoded:
        raise zipfile.BadZipFile(f"local header of {info.orig_filename!r} does not match the directory")
    fp.seek(extra_length, 1)
    raw = fp.read(info.compress_size)
    data = (
        raw if info.compress_type == zipfile.ZIP_STORED else zlib.decompressobj(-15).decompress(raw, info.file_size + 1)
    )
    if len(data) > info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"{info.orig_filename!r} does not hold the bytes its headers declare")
    return data
