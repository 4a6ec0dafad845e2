"""Building archives for the scanner tests: ordinary packs, the corpus samples, and hand-broken zips."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from functions.scanner import Finding, ScanLimits, ScanReport, scan_archive

CORPUS = Path(__file__).resolve().parent / "corpus"
# Samples are stored with this suffix on every file (and on `__pycache__`), so that linters, type checkers,
# import machinery and .gitignore leave them alone; it is removed when the sample is zipped.
SUFFIX = ".sample"

Files = Mapping[str, str | bytes]


def make_zip(
    files: Files | Iterable[tuple[str | zipfile.ZipInfo, str | bytes]], *, method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    items = files.items() if isinstance(files, Mapping) else files
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", method) as archive:
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        for name, data in items:
            archive.writestr(name, data)
    return buffer.getvalue()


def scan_bytes(data: bytes, limits: ScanLimits | None = None) -> ScanReport:
    return scan_archive(io.BytesIO(data), limits)


def scan_files(files: Files, limits: ScanLimits | None = None) -> ScanReport:
    return scan_bytes(make_zip(files), limits)


def findings(files: Files, rule: str | None = None) -> list[Finding]:
    found = scan_files(files).findings
    return [f for f in found if rule is None or f.rule == rule]


def rules(files: Files) -> set[str]:
    return {f.rule for f in scan_files(files).findings}


INIT: dict[str, str | bytes] = {"__init__.py": "NODE_CLASS_MAPPINGS = {}\n"}


def severities(files: Files, rule: str) -> set[str]:
    """The severities of one rule's findings on a pack made of `files` and an empty `__init__.py`."""
    return {f.severity.value for f in findings({**INIT, **files}, rule)}


def assert_rule(files: Files, rule: str, severity: str) -> None:
    assert severity in severities(files, rule), findings({**INIT, **files})


def assert_quiet(files: Files, rule: str) -> None:
    assert not findings({**INIT, **files}, rule), findings({**INIT, **files}, rule)


def sample_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = "/".join(part.removesuffix(SUFFIX) for part in path.relative_to(folder).parts)
                archive.writestr(name, path.read_bytes())
    return buffer.getvalue()


def samples(kind: str) -> list[Path]:
    return sorted(p for p in (CORPUS / kind).iterdir() if p.is_dir())


# Hand-editing headers ------------------------------------------------------------------------------------------

_LOCAL, _CENTRAL, _END = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"


def patch_all(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Sets one field in every header with that signature (e.g. the flags of all local and central headers)."""
    out = bytearray(data)
    at = out.find(signature)
    while at >= 0:
        struct.pack_into(fmt, out, at + offset, value)
        at = out.find(signature, at + 4)
    return bytes(out)


def set_flags(data: bytes, flags: int) -> bytes:
    return patch_all(patch_all(data, _LOCAL, 6, "<H", flags), _CENTRAL, 8, "<H", flags)


def set_sizes(data: bytes, uncompressed: int) -> bytes:
    """Makes every header declare another uncompressed size (a lying header)."""
    return patch_all(patch_all(data, _LOCAL, 22, "<I", uncompressed), _CENTRAL, 24, "<I", uncompressed)


def set_entry_count(data: bytes, count: int) -> bytes:
    return patch_all(patch_all(data, _END, 8, "<H", count), _END, 10, "<H", count)


def rename(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replaces a name in the local and central headers (same length, so no offset moves)."""
    assert len(old) == len(new)
    return data.replace(old, new)
