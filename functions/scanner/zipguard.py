"""Checks made before anything is decompressed: the central directory's size and count, and every entry's header."""

from __future__ import annotations

import re
import stat
import struct
import unicodedata
import zipfile
from typing import IO

from functions.scanner.limits import ScanLimits


class ArchiveRejected(Exception):
    """The archive is hostile or malformed; `reason` is fit to show to the publisher."""

    def __init__(self, reason: str, code: str = "malformed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CD_HEADER = 46
_LOCAL_HEADER = 30
_MAX_COMMENT = 0xFFFF
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d|conin\$|conout\$)(\..*)?$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_REPARSE_POINT = 0x400
_DOS_SYSTEMS = (0, 11, 14)  # MS-DOS, NTFS, VFAT: external attributes carry DOS flags


def check_start(fp: IO[bytes]) -> None:
    """The first entry must start at byte 0: prepended data (self-extracting or polyglot files) is refused."""
    fp.seek(0)
    magic = fp.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ArchiveRejected("not a zip archive, or data before its first entry", "not_zip")


def _find_eocd(fp: IO[bytes], size: int) -> tuple[int, tuple[int, ...]]:
    """Finds the end-of-central-directory record the way zipfile does (last one, comment allowed)."""
    tail_len = min(size, _EOCD.size + _MAX_COMMENT)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    start = tail.rfind(b"PK\x05\x06")
    if start < 0 or len(tail) - start < _EOCD.size:
        raise ArchiveRejected("no end-of-central-directory record: truncated or not a zip archive")
    return size - tail_len + start, _EOCD.unpack_from(tail, start)


def _zip64_directory(fp: IO[bytes], eocd_at: int) -> tuple[int, int, int] | None:
    """(entries, size, offset) from the Zip64 record when its locator precedes the classic record."""
    if eocd_at < _ZIP64_LOCATOR.size + _ZIP64_EOCD.size:
        return None
    fp.seek(eocd_at - _ZIP64_LOCATOR.size)
    locator = _ZIP64_LOCATOR.unpack(fp.read(_ZIP64_LOCATOR.size))
    if locator[0] != b"PK\x06\x07":
        return None
    fp.seek(eocd_at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size)
    record = _ZIP64_EOCD.unpack(fp.read(_ZIP64_EOCD.size))
    if record[0] != b"PK\x06\x06":
        return None
    return record[7], record[8], record[9]


def check_central_directory(fp: IO[bytes], size: int, limits: ScanLimits) -> None:
    """Bounds what zipfile will allocate when it parses the directory, before it does."""
    eocd_at, eocd = _find_eocd(fp, size)
    entries, cd_size, cd_offset = eocd[4], eocd[5], eocd[6]
    trailer = 0
    zip64 = _zip64_directory(fp, eocd_at)
    if zip64 is not None:
        entries, cd_size, cd_offset = zip64
        trailer = _ZIP64_LOCATOR.size + _ZIP64_EOCD.size
    if entries > limits.max_files:
        raise ArchiveRejected(f"{entries} entries, more than the limit of {limits.max_files}", "too_many_files")
    if cd_size > limits.max_central_directory_bytes:
        raise ArchiveRejected(f"central directory of {cd_size} bytes is too large", "too_many_files")
    # zipfile accepts a directory that does not start where the record says (data prepended); we do not, so that
    # every unzip tool sees the same entries at the same offsets.
    if eocd_at - trailer - cd_size != cd_offset:
        raise ArchiveRejected("central directory is not where the end record says: data prepended or inserted")
    _count_directory_records(fp, cd_offset, cd_size, limits.max_files)


def _count_directory_records(fp: IO[bytes], offset: int, length: int, max_files: int) -> None:
    """Walks the directory's headers (46 bytes each, then name, extra and comment) without keeping them."""
    fp.seek(offset)
    pos, count = 0, 0
    while pos < length:
        header = fp.read(_CD_HEADER)
        if len(header) < _CD_HEADER or header[:4] != b"PK\x01\x02":
            raise ArchiveRejected("corrupt central directory")
        name_len, extra_len, comment_len = struct.unpack_from("<3H", header, 28)
        variable = name_len + extra_len + comment_len
        fp.seek(variable, 1)
        pos += _CD_HEADER + variable
        count += 1
        if count > max_files:
            raise ArchiveRejected(f"more than {max_files} entries in the central directory", "too_many_files")


def check_name(info: zipfile.ZipInfo, limits: ScanLimits) -> str:
    """Returns the entry's path, or refuses a name that could land outside the pack or alias another file."""
    raw = info.orig_filename  # zipfile cuts `filename` at a NUL byte; the original shows the trick
    if not raw or len(raw) > limits.max_path_length:
        raise ArchiveRejected(f"entry name of length {len(raw)} is empty or too long", "bad_path")
    if _CONTROL.search(raw):
        raise ArchiveRejected(f"control character in entry name {raw!r}", "bad_path")
    if "\\" in raw:
        raise ArchiveRejected(f"backslash in entry name {raw!r} (a path separator on Windows)", "bad_path")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise ArchiveRejected(f"absolute path {raw!r}", "bad_path")
    if ":" in raw:
        raise ArchiveRejected(f"colon in entry name {raw!r} (drive or alternate data stream)", "bad_path")
    parts = raw[:-1].split("/") if raw.endswith("/") else raw.split("/")
    if len(parts) > limits.max_path_depth:
        raise ArchiveRejected(f"entry {raw!r} is nested more than {limits.max_path_depth} levels deep", "bad_path")
    for part in parts:
        _check_part(raw, part)
    return raw


def _check_part(raw: str, part: str) -> None:
    if part in ("", ".", ".."):
        raise ArchiveRejected(f"path traversal or empty component in entry name {raw!r}", "bad_path")
    if part[-1] in ". " or _WINDOWS_DEVICES.match(part):
        raise ArchiveRejected(f"entry name {raw!r} aliases another path on Windows", "bad_path")


def check_entry(info: zipfile.ZipInfo) -> None:
    """Encryption, compression method and file type, from the headers."""
    if info.flag_bits & 0x1 or info.flag_bits & 0x40:
        raise ArchiveRejected(f"encrypted entry {info.orig_filename!r}", "encrypted")
    if info.compress_type not in _SUPPORTED_METHODS:
        # bzip2 and LZMA cannot be decompressed in bounded steps through zipfile, so a bomb would not be caught.
        raise ArchiveRejected(
            f"entry {info.orig_filename!r} uses compression method {info.compress_type}; only stored and deflated"
            " are accepted",
            "unsupported",
        )
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise ArchiveRejected(f"symbolic link {info.orig_filename!r}", "symlink")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveRejected(f"special file {info.orig_filename!r} (device, pipe or socket)", "special_file")
    if info.create_system in _DOS_SYSTEMS and info.external_attr & _REPARSE_POINT:
        raise ArchiveRejected(f"reparse point (Windows link) {info.orig_filename!r}", "symlink")
    is_dir = info.orig_filename.endswith("/")
    if kind == stat.S_IFDIR and not is_dir:
        raise ArchiveRejected(f"entry {info.orig_filename!r} is a directory without a trailing slash", "bad_path")
    if is_dir and (info.file_size or info.compress_size > 2):
        raise ArchiveRejected(f"directory entry {info.orig_filename!r} carries data", "bad_path")


def path_key(name: str) -> str:
    """Two names with the same key are the same file on a case-insensitive or normalising file system."""
    return unicodedata.normalize("NFC", name.rstrip("/")).casefold()


def check_duplicates(names: list[str]) -> None:
    """Refuses two entries for one path, and a path that is both a file and a directory."""
    seen: set[str] = set()
    files: set[str] = set()
    parents: set[str] = set()
    for name in names:
        key = path_key(name)
        if key in seen:
            raise ArchiveRejected(
                f"duplicate entry {name!r} (names that differ only in case count as one)", "duplicate"
            )
        seen.add(key)
        if not name.endswith("/"):
            files.add(key)
        parent = key.rpartition("/")[0]
        while parent and parent not in parents:  # a known parent's own parents are known too
            parents.add(parent)
            parent = parent.rpartition("/")[0]
    clash = files & parents
    if clash:
        raise ArchiveRejected(f"{sorted(clash)[0]!r} is both a file and a directory", "duplicate")


def check_layout(infos: list[zipfile.ZipInfo], directory_offset: int) -> None:
    """Entries must not overlap: overlapping entries are how the densest zip bombs reuse one compressed kernel."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    if not ordered:
        return  # an empty archive (a bare end record) has nothing to overlap
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        end_limit = following.header_offset if following is not None else directory_offset
        name_len = len(current.orig_filename.encode("utf-8" if current.flag_bits & 0x800 else "cp437", "replace"))
        if current.header_offset + _LOCAL_HEADER + name_len + current.compress_size > end_limit:
            raise ArchiveRejected(f"entry {current.orig_filename!r} overlaps the next one", "overlap")
