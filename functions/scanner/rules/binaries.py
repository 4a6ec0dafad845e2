"""Native code and packed code shipped in the pack, recognised by magic bytes as well as by name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from functions.scanner.rules.base import CRITICAL, HIGH, LOW, MEDIUM, Hit
from functions.scanner.unpack import is_nested_archive

_NATIVE_NAME = re.compile(
    r"\.(?:so(?:\.\d+)*|dll|dylib|exe|pyd|node|scr|sys|ocx|cpl|msi|dmg|deb|rpm|apk|appimage|elf)$", re.IGNORECASE
)
_MACHO = {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbf"}
_WHEEL = re.compile(r"\.(?:whl|egg)$", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(?:zip|tar|tgz|tar\.gz|tar\.bz2|tar\.xz|7z|rar|jar)$", re.IGNORECASE)
_PYC = re.compile(r"\.py[co]$", re.IGNORECASE)
# Every name any check reads, in one pass: most members match none and need no more.
_ANY_NAME = re.compile("|".join(r.pattern for r in (_NATIVE_NAME, _WHEEL, _ARCHIVE, _PYC)), re.IGNORECASE)
_MAGIC_STARTS = frozenset({b"\x7fE", b"MZ", b"\xfe\xed", b"\xce\xfa", b"\xcf\xfa", b"\xca\xfe"})
_FAT_ARCH_LIMIT = 45  # above this, 0xCAFEBABE is a Java class file (its major version), not a fat Mach-O


def native_kind(head: bytes) -> str | None:
    if head.startswith(b"\x7fELF"):
        return "ELF"
    if head[:2] == b"MZ" and (_pe_header(head) or b"This program cannot be run in DOS mode" in head):
        return "PE (Windows)"
    if head[:4] in _MACHO:
        return "Mach-O"
    if head[:4] == b"\xca\xfe\xba\xbe" and 0 < int.from_bytes(head[4:8], "big") < _FAT_ARCH_LIMIT:
        return "Mach-O universal"
    return None


def _pe_header(head: bytes) -> bool:
    if len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset : offset + 4] == b"PE\x00\x00"


def check(name: str, head: bytes) -> Iterator[Hit]:
    if head[:2] not in _MAGIC_STARTS and _ANY_NAME.search(name) is None:
        return
    kind = native_kind(head)
    named = _NATIVE_NAME.search(name) is not None
    if kind is not None and not named:
        yield Hit("NATIVE-BINARY", CRITICAL, None, f"{kind} executable disguised under a non-executable name")
    elif kind is not None or named:
        yield Hit("NATIVE-BINARY", HIGH, None, f"native {kind or 'executable or library'} shipped in the pack")
    yield from _packed(name, head)


def _packed(name: str, head: bytes) -> Iterator[Hit]:
    if _WHEEL.search(name):
        yield Hit("PACKED-CODE", MEDIUM, None, f"a Python package archive{_opened(name)}")
    elif _PYC.search(name):
        yield _compiled(name, head)
    elif _ARCHIVE.search(name):
        yield Hit("PACKED-CODE", LOW, None, f"a nested archive{_opened(name)}")


def _opened(name: str) -> str:
    return " (its files are scanned too)" if is_nested_archive(name) else " (not unpacked by the scanner)"


def _compiled(name: str, head: bytes) -> Hit:
    flags = int.from_bytes(head[4:8], "little") if len(head) >= 8 else 0
    if flags & 0b01 and not flags & 0b10:
        # PEP 552 unchecked hash-based .pyc: Python runs it without comparing it with the source beside it.
        return Hit("PACKED-CODE", HIGH, None, "compiled Python that overrides its source (unchecked hash)")
    if "__pycache__/" not in name:
        return Hit("PACKED-CODE", MEDIUM, None, "compiled Python without a cache folder: importable with no source")
    return Hit("PACKED-CODE", LOW, None, "compiled Python cache")
