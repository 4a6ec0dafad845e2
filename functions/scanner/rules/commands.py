"""Command lines, wherever they come from (a subprocess call, os.system, a shell script): pip and downloaders."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from functions.scanner.rules import advisories
from functions.scanner.rules.base import CRITICAL, HIGH, LOW, MEDIUM, Hit, host_of
from functions.scanner.rules.deps import index_hit, is_url_requirement, url_dependency
from functions.scanner.rules.hosts import is_known_download
from functions.scanner.rules.patterns import urls_in
from functions.scanner.rules.typosquat import requirement_name, typosquat_of

_PIP = {"pip", "pip3", "pip.exe", "pip3.exe"}
_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-t", "--target", "--prefix", "--root", "--src", "--platform",
    "--python-version", "--implementation", "--abi", "--upgrade-strategy", "--progress-bar", "--log", "--cache-dir",
    "--config-settings", "-C", "--global-option", "--build-option", "--only-binary", "--no-binary", "--report",
}  # fmt: skip
_SOURCE_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host"}
_SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "2>&1"}
_DOWNLOADERS = re.compile(
    r"(?:^|[\s;&|(\"'/\\])(?:curl|wget|aria2c)(?:\.exe)?\s"
    r"|\bcertutil(?:\.exe)?\b.*-urlcache|\bbitsadmin(?:\.exe)?\b.*/transfer|\bStart-BitsTransfer\b"
    r"|\b(?:Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\s|DownloadString\(|DownloadFile\(|Net\.WebClient"
    r"|\bmshta(?:\.exe)?\s+https?:",
    re.IGNORECASE,
)
_ENCODED_POWERSHELL = re.compile(
    r"\b(?:powershell|pwsh)(?:\.exe)?\b.*\s[-/](?:e|ec|enc|encodedcommand)\s+[A-Za-z0-9+/=]{20,}", re.IGNORECASE
)
_PIPED_TO_SHELL = re.compile(
    r"\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\|\s*python[\d.]*\b|\|\s*iex\b|\biex\s*[(\s]|Invoke-Expression"
    r"|\bsh\s+-c\s+[\"']?\$\((?:curl|wget)",
    re.IGNORECASE,
)


@dataclass
class PipInstall:
    targets: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (option, URL or host)
    requirement_files: list[str] = field(default_factory=list)
    editable: list[str] = field(default_factory=list)


def split_command(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _base(token: str) -> str:
    return re.split(r"[/\\]", token.strip("\"'"))[-1].lower()


def find_pip_install(tokens: list[str]) -> PipInstall | None:
    for index, token in enumerate(tokens):
        base = _base(token)
        via_module = base in ("-m", "uv") and index + 1 < len(tokens) and _base(tokens[index + 1]) == "pip"
        if base in _PIP or via_module:
            rest = tokens[index + (2 if via_module else 1) :]
            if "install" in rest[:3]:
                return _parse_install(rest[rest.index("install") + 1 :])
    return None


def _parse_install(args: list[str]) -> PipInstall:
    pip = PipInstall()
    pending: str | None = None
    for arg in args:
        if arg in _SHELL_OPERATORS:
            break
        if pending is not None:
            _take_value(pip, pending, arg)
            pending = None
            continue
        option, eq, value = arg.partition("=")
        if option in _SOURCE_OPTIONS | _VALUE_OPTIONS | {"-e", "--editable"}:
            if eq:
                _take_value(pip, option, value)
            else:
                pending = option
        elif not arg.startswith("-"):
            pip.targets.append(arg)
    return pip


def _take_value(pip: PipInstall, option: str, value: str) -> None:
    if option in _SOURCE_OPTIONS:
        pip.sources.append((option, value))
    elif option in ("-r", "--requirement"):
        pip.requirement_files.append(value)
    elif option in ("-e", "--editable"):
        pip.editable.append(value)
        pip.targets.append(value)


def pip_hits(tokens: list[str], line: int | None, install_time: bool) -> Iterator[Hit]:
    """PIP-INSTALL for the call itself, PIP-INSTALL-URL for where it fetches from, DEP-TYPOSQUAT for names."""
    pip = find_pip_install(tokens)
    if pip is None:
        return
    only_requirements = bool(pip.requirement_files) and not pip.targets
    severity = LOW if install_time or only_requirements else MEDIUM
    what = ", ".join([*pip.targets, *(f"-r {f}" for f in pip.requirement_files)])[:120] or "packages"
    yield Hit("PIP-INSTALL", severity, line, f"pip install of {what}")
    for target in pip.targets:
        if "{" in target:
            continue  # a computed name: a helper installing what its caller passes
        name, at, url = target.partition("@")
        if at and "://" in url:
            severity, message = url_dependency(requirement_name(name), url.strip())
            yield Hit("PIP-INSTALL-URL", severity, line, f"pip install: {message}")
        elif is_url_requirement(target):
            severity, message = url_dependency(None, target)
            yield Hit("PIP-INSTALL-URL", severity, line, f"pip install: {message}")
        elif (name := requirement_name(target) or "") and (real := typosquat_of(name)):
            yield Hit("DEP-TYPOSQUAT", HIGH, line, f"pip install of {name!r}, a near-copy of {real!r}")
        yield from advisories.requirement_hits(target, line)  # known-compromised versions (rules/advisories.py)
    for option, value in pip.sources:
        if "{" not in value and (hit := index_hit(option, value, line)) is not None:
            yield Hit("PIP-INSTALL-URL", hit.severity, line, f"pip install: {hit.message}")


def downloader_hits(text: str, line: int | None) -> Iterator[Hit]:
    """curl, wget, PowerShell, certutil or bitsadmin fetching something (absent from honest packs' code)."""
    if _ENCODED_POWERSHELL.search(text):
        yield Hit("SHELL-DOWNLOADER", CRITICAL, line, "runs an encoded PowerShell command")
        return
    if _DOWNLOADERS.search(text) is None:
        return
    if _PIPED_TO_SHELL.search(text):
        yield Hit("SHELL-DOWNLOADER", CRITICAL, line, "downloads and pipes into a shell or interpreter")
        return
    hosts = [host_of(url) for url in urls_in(text)]
    if hosts and all(is_known_download(host) for host in hosts):
        yield Hit("SHELL-DOWNLOADER", MEDIUM, line, f"downloads from {', '.join(sorted(set(hosts)))}")
        return
    yield Hit("SHELL-DOWNLOADER", HIGH, line, "downloads from " + (", ".join(sorted(set(hosts))) or "a computed URL"))
