"""The rule catalogue, what a rule reports (a Hit), and the text helpers every rule shares."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from functions.scanner.report import Severity

LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL


@dataclass(frozen=True)
class Rule:
    id: str
    title: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("PY-OBFUSCATED-EXEC", "decoded, decompressed or unmarshalled data run as code"),
        Rule("PY-EXEC-LITERAL", "a string literal run as code"),
        Rule("PY-DOWNLOAD-EXEC", "code or a program downloaded and run"),
        Rule("PY-DYNAMIC-IMPORT", "__import__ of a computed name"),
        Rule("PY-DYNAMIC-NAME", "a process, code or native-code function reached through a name built at run time"),
        Rule("PY-UNSAFE-DESERIALIZE", "data received at run time unpickled (not run as hidden code)"),
        Rule("PY-NATIVE-LOAD", "native code loaded or injected through ctypes"),
        Rule("SHELL-DOWNLOADER", "curl, wget, PowerShell, certutil or bitsadmin fetching something"),
        Rule("PIP-INSTALL", "pip run from code"),
        Rule("PIP-INSTALL-URL", "pip run from code on a URL, a VCS reference or another index"),
        Rule("PIP-INTERNAL", "pip's internal API used from code"),
        Rule("CREDENTIAL-ACCESS", "browser profiles, keys, wallets or credential stores read"),
        Rule("ENV-SECRET-EXFIL", "the whole environment sent over the network"),
        Rule("EXFIL-ENDPOINT", "a chat webhook, bot API, paste site, request catcher or tunnel"),
        Rule("RAW-IP-ENDPOINT", "a URL to a public IP address"),
        Rule("MINER", "cryptocurrency miner, mining pool or wallet"),
        Rule("NATIVE-BINARY", "a native executable or library shipped in the pack"),
        Rule("PACKED-CODE", "compiled, packaged or obfuscated code the scanner cannot read"),
        Rule("DEP-URL", "a dependency given as a URL, VCS reference or local path"),
        Rule("DEP-INDEX", "a dependency index or link source other than PyPI"),
        Rule("DEP-TYPOSQUAT", "a dependency named like a popular package"),
        Rule("DEP-COMPROMISED", "a dependency pinned or allowed to a maliciously published release (OSV)"),
        Rule("JS-EVAL-ENCODED", "JavaScript running decoded or string code"),
        Rule("JS-TOKEN-EXFIL", "cookies or local storage read and sent away"),
        Rule("JS-REMOTE-CODE", "JavaScript loaded from another site"),
        Rule("JS-FETCHED-EXEC", "JavaScript fetching code from another site and running it"),
        Rule("SCAN-INCOMPLETE", "a file the scanner could not fully read"),
    )
}


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    severity: Severity
    line: int | None
    message: str
    col: int | None = None  # where on the line, so the excerpt of a minified line shows the match


_EXCERPT = 160


@dataclass
class SourceText:
    """One file's text, with line lookups for offsets and excerpts."""

    path: str
    text: str
    _starts: list[int] = field(default_factory=list, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)

    def line_col(self, offset: int) -> tuple[int, int]:
        if not self._starts:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index]

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def excerpt(self, line: int | None, col: int | None = None) -> str:
        lines = self.lines()
        if line is None or not 0 < line <= len(lines):
            return ""
        text = lines[line - 1]
        if len(text) > _EXCERPT and col is not None:
            start = max(0, col - 60)
            text = text[start : start + _EXCERPT]
        return text.strip()[:_EXCERPT]


def host_of(url: str) -> str:
    """The lower-cased host of an absolute URL, without credentials or port ('' when there is none)."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].lower().rstrip(".")


def host_matches(host: str, domains: frozenset[str]) -> bool:
    """True when the host is one of the domains or a subdomain of one."""
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts)))
