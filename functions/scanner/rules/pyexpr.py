"""Reading Python expressions without running them: dotted names, folded strings, and call classifiers."""

from __future__ import annotations

import ast

_MAX_TEXT = 1 << 20
_MAX_CALL_DEPTH = 40

# Calls that turn an inert literal into bytes or text that may be code.
DECODER_SUFFIXES = (
    "b64decode",
    "b32decode",
    "b32hexdecode",
    "b16decode",
    "a85decode",
    "b85decode",
    "decodebytes",
    "decodestring",
    "unhexlify",
    "a2b_base64",
    "a2b_hex",
    "a2b_uu",
    "fromhex",
)
_DECOMPRESSORS = {"zlib", "bz2", "lzma", "gzip", "zstd", "zstandard", "lz4"}
DECODER_EXACT = {"marshal.loads", "codecs.decode", "pickle.loads", "dill.loads", "cloudpickle.loads"}
_TEXT_CODECS = {"rot13", "rot_13", "hex", "hex_codec", "base64", "base_64", "base64_codec", "zlib", "zlib_codec", "bz2"}

FETCH_EXACT = {
    "urllib.request.urlopen",
    "urllib.urlopen",
    "urllib2.urlopen",
    "urllib.request.urlretrieve",
    "urllib.urlretrieve",
    "wget.download",
    "urllib3.request",
    "aiohttp.request",
    "pycurl.Curl",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
}
_FETCH_MODULES = ("requests.", "httpx.", "urllib3.PoolManager().", "aiohttp.ClientSession().")
_FETCH_VERBS = {"get", "post", "put", "patch", "request", "stream", "urlopen", "head"}
DOWNLOAD_TO_FILE = {"urllib.request.urlretrieve", "urllib.urlretrieve", "wget.download"}


def qualname(node: ast.AST, aliases: dict[str, str], depth: int = 0) -> str | None:
    """`b64.b64decode` with `import base64 as b64` is `base64.b64decode`; a call in the chain is marked `()`."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        head = aliases.get(node.id, node.id)
    elif isinstance(node, ast.Call) and depth < _MAX_CALL_DEPTH:
        inner = qualname(node.func, aliases, depth + 1)
        if inner is None:
            return None
        head = inner + "()"
    else:
        return None
    return ".".join([head, *reversed(parts)])


def render(node: ast.AST, aliases: dict[str, str], strict: bool = False) -> str | None:
    """The text an expression builds from literals; other parts become `{name}` (or None when strict)."""
    parts: list[str] = []
    stack: list[ast.AST | str] = [node]
    size = 0
    while stack:
        item = stack.pop()
        text = item if isinstance(item, str) else _render_one(item, stack, aliases, strict)
        if text is None:
            if strict:
                return None
            continue
        parts.append(text)
        size += len(text)
        if size > _MAX_TEXT:
            return None
    return "".join(parts)


def _render_one(node: ast.AST, stack: list[ast.AST | str], aliases: dict[str, str], strict: bool) -> str | None:
    """Renders a leaf, or pushes an inner node's parts (right to left) and renders nothing yet."""
    if isinstance(node, ast.Constant):
        return _constant_text(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Div | ast.Mod):
        if isinstance(node.op, ast.Mod):
            stack.append(node.left)  # "%s/x" % y: the format string carries the literal part
        else:
            stack.extend([node.right, "/" if isinstance(node.op, ast.Div) else "", node.left])
        return None if strict and isinstance(node.op, ast.Mod) else ""
    if isinstance(node, ast.JoinedStr):
        stack.extend(reversed(node.values))
        return ""
    if isinstance(node, ast.FormattedValue):
        return None if strict else _placeholder(node.value, aliases)
    if isinstance(node, ast.Call):
        return _render_call(node, aliases, strict)
    return None if strict else _placeholder(node, aliases)


def _constant_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return None


def _render_call(node: ast.Call, aliases: dict[str, str], strict: bool) -> str | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "chr" and len(node.args) == 1:
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, int) and 0 <= arg.value < 0x110000:
            return chr(arg.value)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
        if func.attr == "join" and len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple):
            pieces = [render(e, aliases, strict) for e in node.args[0].elts]
            if any(p is None for p in pieces):
                return None
            return func.value.value.join(p for p in pieces if p is not None)
        if func.attr == "format" and not strict:
            return func.value.value
    if isinstance(func, ast.Attribute) and func.attr == "join" and _is_path_module(func.value, aliases):
        pieces = [render(a, aliases, strict) for a in node.args]
        return None if any(p is None for p in pieces) else "/".join(p or "" for p in pieces)
    if not strict and qualname(func, aliases) in ("pathlib.Path", "pathlib.PurePath", "pathlib.PureWindowsPath"):
        return "/".join(render(a, aliases) or "" for a in node.args)
    return None if strict else _placeholder(node, aliases)


def _is_path_module(node: ast.AST, aliases: dict[str, str]) -> bool:
    return qualname(node, aliases) in ("os.path", "posixpath", "ntpath", "path")


def _placeholder(node: ast.AST, aliases: dict[str, str]) -> str:
    name = qualname(node.func if isinstance(node, ast.Call) else node, aliases)
    return "{" + (name or "") + "}"


def const_str(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The exact string an expression folds to, when it is made of literals only."""
    return render(node, aliases, strict=True)


def call_name(call: ast.Call, aliases: dict[str, str]) -> str:
    return qualname(call.func, aliases) or ""


def _is_helper(name: str, helpers: frozenset[str]) -> bool:
    """A module function, or a method called on `self`/`cls`, found to return such data."""
    if name in helpers:
        return True
    owner, _, method = name.rpartition(".")
    return owner in ("self", "cls") and method in helpers


def is_decoder_call(
    call: ast.Call, aliases: dict[str, str], helpers: frozenset[str] = frozenset(), name: str | None = None
) -> bool:
    name = call_name(call, aliases) if name is None else name
    if name in DECODER_EXACT or _is_helper(name, helpers) or name.rsplit(".", 1)[-1] in DECODER_SUFFIXES:
        return True
    root, _, last = name.partition(".")
    if last == "decompress" and root in _DECOMPRESSORS:
        return True
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "decode" and call.args:
        codec = const_str(call.args[0], aliases)
        return codec is not None and codec.lower().replace("-", "_") in _TEXT_CODECS
    if isinstance(func, ast.Attribute) and func.attr == "join":
        return any(isinstance(n, ast.Name) and n.id == "chr" for a in call.args for n in ast.walk(a))
    if name in ("bytes", "bytearray") and call.args and isinstance(call.args[0], ast.List | ast.Tuple):
        return len(call.args[0].elts) >= 8
    return False


def is_fetch_call(
    call: ast.Call, aliases: dict[str, str], helpers: frozenset[str] = frozenset(), name: str | None = None
) -> bool:
    name = call_name(call, aliases) if name is None else name
    if name in FETCH_EXACT or _is_helper(name, helpers):
        return True
    verb = name.rsplit(".", 1)[-1]
    return verb in _FETCH_VERBS and name.startswith(_FETCH_MODULES)


def is_reversed_literal(node: ast.AST) -> bool:
    """`"...")[::-1]`: a literal stored backwards."""
    if not isinstance(node, ast.Subscript) or not isinstance(node.slice, ast.Slice):
        return False
    step = node.slice.step
    negative = isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub)
    return negative and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str | bytes)
