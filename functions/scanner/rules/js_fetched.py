"""Web code that runs code it fetched: text or a script from another host run with `eval` or `new Function`, a
script element whose source is remote or built at run time, `import()` of a remote URL.

A web extension loading its own bundled scripts (`import("./lib/x.js")`, `s.src = "extensions/pack/x.js"`, a URL
built on `import.meta.url` or the ComfyUI API base) and minified libraries whose `Function(` no fetch feeds stay
quiet. JavaScript is read with patterns, not parsed: a name assigned from a fetch and later run is followed within
the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from functions.scanner.report import Severity
from functions.scanner.rules.base import HIGH, MEDIUM, Hit, SourceText, host_of
from functions.scanner.rules.hosts import is_local

_NAME = r"[A-Za-z_$][\w$]*"
_REMOTE_URL = re.compile(r"""[`'"]((?:https?:)?//[^/`'"\s$]+)[^`'"\s]*[`'"]""")
# A fetch (or XHR answer) whose text is run directly: eval(await (await fetch(u)).text()), .then(eval), ...
_RUN_FETCH_DIRECT = re.compile(
    r"(?:\beval|\bFunction)\s*\(\s*(?:await\s*)?\(?\s*(?:await\s*)?\(?\s*(?:await\s+)?(?:fetch|axios\.get|\$\.get)\s*\("
    r"|\.then\(\s*(?:window\.)?eval\s*\)"
    r"|\.then\(\s*\(?\s*(" + _NAME + r")\s*\)?\s*=>\s*\{?\s*(?:(?:window\.)?eval|(?:new\s+)?Function)\s*\([^)]*?\b\1\b"
    r"|(?:\beval|\bFunction)\s*\(\s*[\w$.]*\.responseText\b"
)
# A name assigned from what a fetch or an XHR returns.
_FETCHED_NAME = re.compile(
    r"\b(" + _NAME + r")\s*=\s*(?:await\s+)?[^;\n]{0,200}?"
    r"(?:\bfetch\s*\(|\.text\s*\(\s*\)|\.responseText\b|axios\.get\s*\(|\$\.get\s*\()"
)
_RUN_NAME = re.compile(
    r"(?:\beval|\bFunction)\s*\(\s*(?:[^()]*,\s*)?(" + _NAME + r")\s*\)"
    r"|\.(?:text|textContent|innerHTML)\s*=\s*(" + _NAME + r")\s*[;\n]"
)
_SCRIPT_ELEMENT = re.compile(r"createElement\s*\(\s*[`'\"]script[`'\"]\s*\)")
_SCRIPT_SRC = re.compile(r"""\.src\s*=\s*([^;\n]+)|setAttribute\s*\(\s*[`'"]src[`'"]\s*,\s*([^)\n]+)\)""")
_IMPORT_CALL = re.compile(r"\bimport\s*\(\s*([^)\n]+)\)")
_BOUND_BEFORE = re.compile(r"\b(" + _NAME + r")\s*=\s*$")
_IDENTIFIER = re.compile(_NAME)
_LOCAL_MARKERS = ("import.meta", "api.", "location.", "document.baseURI", "app.", "__dirname", "chrome.runtime")
_RELATIVE = re.compile(r"""^\s*[`'"](?:\.{1,2}/|/(?!/)|extensions/|[\w-]+/)""")
_FETCH_ARG = re.compile(r"\bfetch\s*\(\s*([^)\n]*)")
_DECODED = re.compile(r"\batob\s*\(|fromCharCode|decodeURIComponent|unescape\s*\(")

Emit = Callable[[str, Severity, int, str], Hit]


_FETCH_WORDS = ("fetch(", "fetch (", "responsetext", "axios", "$.get")
_IMPORT_WORDS = ("import(", "import (")
# What `check` looks for in the lower-cased text before any regex runs (the caller finds them in one pass).
GATE_WORDS = (*_FETCH_WORDS, *_IMPORT_WORDS, "createelement")


def check(source: SourceText, text: str, present: set[str]) -> Iterator[Hit]:
    """`present`: which of GATE_WORDS occur in the lower-cased text."""

    def emit(rule: str, severity: Severity, offset: int, message: str) -> Hit:
        line, col = source.line_col(offset)
        return Hit(rule, severity, line, message, col)

    fetching = not present.isdisjoint(_FETCH_WORDS)
    scripting = "createelement" in present and _SCRIPT_ELEMENT.search(text) is not None
    importing = not present.isdisjoint(_IMPORT_WORDS)
    if not (fetching or scripting or importing):
        return  # most files, bundles included: nothing fetched, no script element, no dynamic import
    remote = _remote_hosts(text)
    if fetching:
        yield from _fetch_then_run(text, remote, emit)
    if scripting:
        yield from _script_sources(text, remote, emit)
    if importing:
        yield from _imports(text, remote, emit)


def _remote_hosts(text: str) -> list[str]:
    """Remote hosts the file names, and (as `name:x`) the names it binds to a remote URL."""
    hosts = []
    for match in _REMOTE_URL.finditer(text):
        url = match.group(1)
        host = host_of(url if "://" in url else "https:" + url)
        if host and not is_local(host):
            hosts.append(host)
            bound = _BOUND_BEFORE.search(text, max(0, match.start() - 80), match.start())
            if bound is not None:
                hosts.append(f"name:{bound.group(1)}")
    return hosts


def _fetch_then_run(text: str, remote: list[str], emit: Emit) -> Iterator[Hit]:
    for match in _RUN_FETCH_DIRECT.finditer(text):
        severity = _fetch_risk(text, match.start(), remote)
        if severity is not None:
            yield emit("JS-FETCHED-EXEC", severity, match.start(), "runs the text of a fetch as code")
    fetched = {m.group(1): m.start() for m in _FETCHED_NAME.finditer(text)}
    if not fetched:
        return
    for match in _RUN_NAME.finditer(text):
        name = match.group(1) or match.group(2)
        if name in fetched and (severity := _fetch_risk(text, fetched[name], remote)) is not None:
            yield emit("JS-FETCHED-EXEC", severity, match.start(), f"runs fetched text ({name}) as code")


def _fetch_risk(text: str, offset: int, remote: list[str]) -> Severity | None:
    """How far the nearest fetch around `offset` reaches: its own server is fine, another host is not."""
    window = text[max(0, offset - 400) : offset + 400]
    targets = [m.group(1).strip() for m in _FETCH_ARG.finditer(window)]
    if targets:
        risks = [_source_risk(target, remote) for target in targets]
        return HIGH if HIGH in risks else MEDIUM if MEDIUM in risks else None
    return HIGH if remote else MEDIUM


def _script_sources(text: str, remote: list[str], emit: Emit) -> Iterator[Hit]:
    for match in _SCRIPT_SRC.finditer(text):
        value = (match.group(1) or match.group(2) or "").strip()
        severity = _source_risk(value, remote)
        if severity is not None:
            yield emit("JS-FETCHED-EXEC", severity, match.start(), f"adds a script element loading {value[:80]}")


def _imports(text: str, remote: list[str], emit: Emit) -> Iterator[Hit]:
    for match in _IMPORT_CALL.finditer(text):
        value = match.group(1).strip()
        severity = _source_risk(value, remote)
        if severity is not None:
            yield emit("JS-FETCHED-EXEC", severity, match.start(), f"imports code from {value[:80]}")


def _source_risk(value: str, remote: list[str]) -> Severity | None:
    """HIGH for a remote URL (or one built from decoded text or next to a remote URL), MEDIUM for one built from
    unknown parts, None for the pack's own files."""
    literal = _REMOTE_URL.fullmatch(value.rstrip(";").strip())
    if literal is not None:
        url = literal.group(1)
        host = host_of(url if "://" in url else "https:" + url)
        return HIGH if host and not is_local(host) else None
    if _RELATIVE.match(value) or any(marker in value for marker in _LOCAL_MARKERS):
        return None
    if value[:1] in "'\"" and value[-1:] == value[:1]:
        return None  # a plain relative literal
    names = {f"name:{n}" for n in _IDENTIFIER.findall(value)}
    if _DECODED.search(value) or _REMOTE_URL.search(value) or names & set(remote):
        return HIGH
    return MEDIUM
