"""JavaScript and HTML (web extensions): decoded code run, cookies sent away, code pulled from elsewhere.

Bundled libraries (fabric.js, lodash, Emscripten glue) contain `Function(` and `eval(` on their own variables;
only code that runs decoded or escaped strings is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from functions.scanner.report import Severity
from functions.scanner.rules import js_fetched
from functions.scanner.rules.base import CRITICAL, HIGH, LOW, MEDIUM, Hit, SourceText
from functions.scanner.rules.hosts import is_local
from functions.scanner.rules.needles import Needles
from functions.scanner.rules.patterns import PATTERN_NEEDLES, find_endpoints

_DECODER = (
    r"(?:(?:window|self|globalThis|top)\s*\.\s*)?"
    r"(?:atob|unescape|decodeURIComponent|decodeURI|String\s*\.\s*fromCharCode|Buffer\s*\.\s*from)\s*\("
)
_RUNNERS = r"(?:\beval|\bFunction|\bsetTimeout|\bsetInterval|document\s*\.\s*write(?:ln)?|\bexecScript)"
_RUN_DECODED = re.compile(_RUNNERS + r"\s*\(\s*(?:[`'\"][^`'\"\n]{0,40}[`'\"]\s*\+\s*)?" + _DECODER)
_DECODED_NAME = re.compile(r"\b([A-Za-z_$][\w$]*)\s*=\s*" + _DECODER)
_RUN_NAME = re.compile(r"(?:\beval|\bFunction)\s*\(\s*(?:[`'\"][^`'\"\n]{0,40}[`'\"]\s*\+\s*)?([A-Za-z_$][\w$]*)\s*\)")
_RUN_ESCAPED = re.compile(r"(?:\beval|\bFunction)\s*\(\s*[`'\"](?:\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}){16,}")
_STRING_TIMER = re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*[`'\"]")
_EVAL_LITERAL = re.compile(r"\beval\s*\(\s*[`'\"]")

_COOKIE_READ = re.compile(r"document\s*\.\s*cookie(?!\s*=[^=])")
_STORAGE_DUMP = re.compile(
    r"JSON\s*\.\s*stringify\(\s*(?:window\.)?(?:localStorage|sessionStorage)\s*\)"
    r"|Object\s*\.\s*(?:keys|entries|values)\(\s*(?:window\.)?(?:localStorage|sessionStorage)\s*\)"
    r"|\.\.\.\s*(?:window\.)?(?:localStorage|sessionStorage)\b"
    r"|\bfor\s*\(\s*(?:const|let|var)?\s*[\w$]+\s+in\s+(?:window\.)?localStorage\b"
    r"|localStorage\s*\.\s*key\("
)
_SEND = re.compile(
    r"(?:\bfetch|sendBeacon|\.open|new\s+WebSocket|new\s+EventSource|\.src\s*=|axios\s*\.\s*(?:post|get))\s*\(?"
    r"\s*(?:[`'\"][A-Z]+[`'\"]\s*,\s*)?[`'\"](?:https?:|wss?:)?//([^/`'\"\s$:]+)"
)
_REMOTE_CODE = re.compile(
    r"\bimport\s*\(\s*[`'\"](?:https?:)?//([^/`'\"\s]+)"
    r"|\bimport\b[^;\n]{0,200}?\bfrom\s*[`'\"]https?://([^/`'\"\s]+)"
    r"|<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//([^/\"'\s>]+)"
    r"|\.src\s*=\s*[`'\"](?:https?:)?//([^/`'\"\s]+)[^`'\"\s]*\.m?js\b",
    re.IGNORECASE,
)


_DECODER_NEEDLES = ("atob", "unescape", "decodeuri", "fromcharcode", "buffer")
# Every substring some check below needs before its regexes run, with the text patterns' own: one pass over the
# file finds which are there (most bundles hold none of them), instead of one `in` per substring.
_GATE = Needles((
    *_DECODER_NEEDLES, "\\x", "\\u", "settimeout", "setinterval", "eval", "cookie", "storage", "http",
    *js_fetched.GATE_WORDS, *PATTERN_NEEDLES,
))  # fmt: skip


def check(source: SourceText) -> Iterator[Hit]:
    text = source.text
    lower = text.lower()
    present = _GATE.present(lower)
    yield from _run_decoded(source, text, present)
    if "cookie" in present or "storage" in present:
        yield from _token_exfil(source, text)
    if "http" in present:
        for match in _REMOTE_CODE.finditer(text):
            host = next(group for group in match.groups() if group)
            if not is_local(host.lower()):
                yield _hit(source, "JS-REMOTE-CODE", MEDIUM, match.start(), f"loads code from {host}")
    yield from js_fetched.check(source, text, present)
    for endpoint in find_endpoints(text, lower, present):
        pattern = endpoint.pattern
        yield _hit(source, pattern.rule, pattern.severity, endpoint.start, pattern.message)


def _hit(source: SourceText, rule: str, severity: Severity, offset: int, message: str) -> Hit:
    line, col = source.line_col(offset)
    return Hit(rule, severity, line, message, col)


def _run_decoded(source: SourceText, text: str, present: set[str]) -> Iterator[Hit]:
    if not present.isdisjoint(_DECODER_NEEDLES):
        for match in _RUN_DECODED.finditer(text):
            yield _hit(source, "JS-EVAL-ENCODED", CRITICAL, match.start(), "runs a decoded string as code")
        decoded = {m.group(1) for m in _DECODED_NAME.finditer(text)}
        if decoded:
            for match in _RUN_NAME.finditer(text):
                if match.group(1) in decoded:
                    yield _hit(source, "JS-EVAL-ENCODED", CRITICAL, match.start(), "runs a decoded string as code")
    if "\\x" in present or "\\u" in present:
        for match in _RUN_ESCAPED.finditer(text):
            yield _hit(source, "JS-EVAL-ENCODED", CRITICAL, match.start(), "runs an escape-encoded string as code")
    if "settimeout" in present or "setinterval" in present:
        for match in _STRING_TIMER.finditer(text):
            yield _hit(source, "JS-EVAL-ENCODED", MEDIUM, match.start(), "a timer given a string of code")
    if "eval" in present:
        for match in _EVAL_LITERAL.finditer(text):
            yield _hit(source, "JS-EVAL-ENCODED", LOW, match.start(), "eval of a string literal")


def _token_exfil(source: SourceText, text: str) -> Iterator[Hit]:
    grabs = [*_COOKIE_READ.finditer(text), *_STORAGE_DUMP.finditer(text)]
    if not grabs:
        return
    outside = [m for m in _SEND.finditer(text) if not is_local(m.group(1).lower())]
    first = min(grabs, key=lambda m: m.start())
    if outside:
        host = outside[0].group(1)
        message = f"reads cookies or all of local storage and sends to {host}"
        yield _hit(source, "JS-TOKEN-EXFIL", HIGH, first.start(), message)
    elif _COOKIE_READ.search(text):
        yield _hit(source, "JS-TOKEN-EXFIL", MEDIUM, first.start(), "reads document.cookie")
