"""Static decoding of literal payloads (`b64decode("...")`, `zlib.decompress(...)`), never executing anything.

What a literal decodes to is searched like any other string, so a webhook hidden in base64 is still a webhook.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import re
import zlib
from collections.abc import Iterator

from functions.scanner.rules.pyexpr import call_name, const_str, is_reversed_literal
from functions.scanner.rules.pyfacts import PyFacts

_MAX_OUTPUT = 1 << 20
_CODE_HINTS = re.compile(
    r"\bimport\s+\w+|\bfrom\s+[\w.]+\s+import\b|\bexec\s*\(|\beval\s*\(|\bsubprocess\b|\bsocket\.|\bos\.system\b"
    r"|__import__|\brequests\.(?:get|post)\b|\burlopen\b"
)
_DECODE_ERRORS = (binascii.Error, ValueError, zlib.error, lzma.LZMAError, OSError, EOFError, LookupError, TypeError)


def decoded_literals(facts: PyFacts) -> Iterator[tuple[str, int]]:
    """(text, line) for each decoder call whose argument is a literal."""
    for call, _ in facts.calls:
        if not call.args:
            continue
        data = static_bytes(call, facts, 0)
        if data:
            yield data.decode("utf-8", "replace"), call.lineno


def looks_like_code(text: str) -> bool:
    return len(text) >= 40 and _CODE_HINTS.search(text) is not None


def static_bytes(node: ast.AST, facts: PyFacts, depth: int) -> bytes | None:
    if depth > 8:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return node.value.encode("utf-8", "replace") if isinstance(node.value, str) else node.value
    if is_reversed_literal(node):
        inner = static_bytes(node.value, facts, depth + 1)  # type: ignore[attr-defined]
        return inner[::-1] if inner is not None else None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    name = call_name(node, facts.aliases)
    if isinstance(node.func, ast.Attribute) and node.func.attr == "decode":
        return _method_decode(node, facts, depth)
    inner = static_bytes(node.args[0], facts, depth + 1)
    if inner is None:
        return None
    try:
        return _apply(name, inner, node, facts)
    except _DECODE_ERRORS:
        return None


def _method_decode(node: ast.Call, facts: PyFacts, depth: int) -> bytes | None:
    owner = node.func.value  # type: ignore[attr-defined]
    inner = static_bytes(owner, facts, depth + 1)
    if inner is None:
        return None
    codec = const_str(node.args[0], facts.aliases) if node.args else "utf-8"
    if codec and codec.lower().replace("-", "_") in ("rot13", "rot_13"):
        return codecs.decode(inner.decode("latin-1"), "rot13").encode("latin-1")
    return inner


def _apply(name: str, data: bytes, node: ast.Call, facts: PyFacts | None) -> bytes | None:
    last = name.rsplit(".", 1)[-1]
    root = name.split(".", 1)[0]
    if last in ("b64decode", "decodebytes", "decodestring", "standard_b64decode", "a2b_base64"):
        return base64.b64decode(data + b"==", validate=False)
    if last == "urlsafe_b64decode":
        return base64.urlsafe_b64decode(data + b"==")
    if last in ("b32decode", "b16decode", "a85decode", "b85decode"):
        return getattr(base64, last)(data)  # type: ignore[no-any-return]
    if last in ("unhexlify", "a2b_hex", "fromhex"):
        return binascii.unhexlify(re.sub(rb"\s", b"", data))
    if last == "decompress" and root in ("zlib", "gzip", "bz2", "lzma"):
        return _decompress(root, data)
    if name == "codecs.decode" and len(node.args) > 1 and facts is not None:
        codec = const_str(node.args[1], facts.aliases) or ""
        if codec.lower().replace("-", "_") in ("rot13", "rot_13"):
            return codecs.decode(data.decode("latin-1"), "rot13").encode("latin-1")
    return None


def _decompress(kind: str, data: bytes) -> bytes:
    """Bounded: a literal can be a decompression bomb too."""
    if kind == "bz2":
        return bz2.BZ2Decompressor().decompress(data, _MAX_OUTPUT)
    if kind == "lzma":
        return lzma.LZMADecompressor().decompress(data, _MAX_OUTPUT)
    wbits = 47 if kind == "gzip" else zlib.MAX_WBITS | 32  # auto-detect zlib or gzip headers
    return zlib.decompressobj(wbits).decompress(data, _MAX_OUTPUT)


def apply_decoder(name: str, data: str | bytes, aliases: dict[str, str], extra: list[object]) -> bytes | None:
    """What a decoder call named `name` makes of folded data (None when `name` is no decoder or it fails)."""
    raw = data.encode("latin-1", "replace") if isinstance(data, str) else data
    last = name.rsplit(".", 1)[-1]
    if name == "codecs.decode" and extra and isinstance(extra[0], str):
        if extra[0].lower().replace("-", "_") in ("rot13", "rot_13"):
            return codecs.decode(raw.decode("latin-1"), "rot13").encode("latin-1")
        return None
    if last not in _DECODER_LASTS and not (last == "decompress" and name.split(".", 1)[0] in _DECOMPRESSORS):
        return None
    try:
        return _apply(name, raw, ast.Call(func=ast.Name("x"), args=[], keywords=[]), None)
    except _DECODE_ERRORS:
        return None


_DECODER_LASTS = frozenset(
    {"b64decode", "decodebytes", "decodestring", "standard_b64decode", "a2b_base64", "urlsafe_b64decode",
     "b32decode", "b16decode", "a85decode", "b85decode", "unhexlify", "a2b_hex", "fromhex"}
)  # fmt: skip
_DECOMPRESSORS = frozenset({"zlib", "gzip", "bz2", "lzma"})
