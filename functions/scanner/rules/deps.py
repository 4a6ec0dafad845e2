"""Dependencies declared in requirements files and pyproject.toml: URLs, VCS references, indexes, typosquats, and
known-compromised versions (`advisories`)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from typing import Any

from functions.scanner.report import Severity
from functions.scanner.rules import advisories
from functions.scanner.rules.base import HIGH, LOW, MEDIUM, Hit, SourceText, host_matches, host_of
from functions.scanner.rules.hosts import (
    OFFICIAL_INDEXES,
    TRUSTED_OWNERS,
    is_known_download,
    is_known_index,
    public_ip,
    url_owner,
)
from functions.scanner.rules.typosquat import normalize, popular, requirement_name, typosquat_of

_VCS = ("git+", "hg+", "svn+", "bzr+")
_INDEX_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links"}
_COMMENT = re.compile(r"(^|\s)#.*$")
_ARCHIVE_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.]*?)-\d")
_SCP_LIKE = re.compile(r"^([\w.-]+@[\w.-]+):(?!//)(.*)$")
_CODE_HOSTS = frozenset({"github.com", "gitlab.com", "huggingface.co", "bitbucket.org"})
_PER_REQUIREMENT_OPTION = re.compile(r"\s+--?[A-Za-z]")  # `name==1.0 --hash=sha256:...`


def is_url_requirement(target: str) -> bool:
    lowered = target.lower()
    return "://" in lowered or lowered.startswith((*_VCS, "git@"))


def _strip_vcs(url: str) -> str:
    url = url.split("+", 1)[1] if url.lower().startswith(_VCS) else url
    if (scp := _SCP_LIKE.match(url)) is not None:  # git@github.com:owner/repo.git
        return f"ssh://{scp.group(1)}/{scp.group(2)}"
    return url


def source_risk(url: str) -> tuple[bool, str]:
    """(high?, where) for a place code is downloaded from."""
    url = _strip_vcs(url)
    host = host_of(url)
    if public_ip(host):
        return True, f"the raw IP address {host}"
    if not (is_known_download(host) or is_known_index(host)):
        return True, f"the unknown host {host or url[:60]!r}"
    if url.lower().startswith("http://"):
        return True, f"plain HTTP ({host})"
    return False, host


def archive_name(url: str) -> str | None:
    """The project a URL installs: `#egg=name`, or the name in a wheel or sdist file name."""
    if (egg := re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)) is not None:
        return normalize(egg.group(1))
    last = url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if last.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")) and (m := _ARCHIVE_NAME.match(last)):
        return normalize(m.group(1))
    return None


def url_dependency(name: str | None, url: str) -> tuple[Severity, str]:
    """Severity and message for a dependency fetched from a URL instead of the package index."""
    name = name or archive_name(url)
    plain = _strip_vcs(url)
    host = host_of(plain)
    high, where = source_risk(url)
    if name is not None and popular().get(name) and not host_matches(host, OFFICIAL_INDEXES):
        official = host in _CODE_HOSTS and url_owner(plain) in TRUSTED_OWNERS
        if not official:
            # The ComfyUI_LLMVISION pattern: a well-known package swapped for a lookalike build from elsewhere.
            return HIGH, f"popular package {name!r} replaced by a download from {host or url[:60]}"
    return (HIGH if high else MEDIUM), f"dependency {name or url[:80]!r} installed from {where}"


def index_hit(option: str, value: str, line: int | None) -> Hit | None:
    if option == "--trusted-host":
        if is_known_index(value.split(":", 1)[0]):
            return None
        return Hit("DEP-INDEX", MEDIUM, line, f"TLS checks turned off for {value}")
    host = host_of(value)
    if is_known_index(host) and not value.lower().startswith("http://"):
        return None
    if is_known_index(host):
        return Hit("DEP-INDEX", LOW, line, f"{option} over plain HTTP to the mirror {host}")
    _, where = source_risk(value)
    return Hit("DEP-INDEX", HIGH, line, f"{option} points pip at {where}; any dependency can be served from it")


def spec_hits(spec: str, line: int | None) -> Iterator[Hit]:
    """One requirement (PEP 508 or a pip URL form)."""
    spec = spec.strip()
    if not spec:
        return
    name_part, at, url_part = spec.partition("@")
    if spec.lower().startswith("file:") or url_part.strip().lower().startswith("file:"):
        yield Hit("DEP-URL", LOW, line, f"dependency from a local path {spec[:80]!r}")
        return
    if at and "://" in url_part and not is_url_requirement(name_part.strip()):
        severity, message = url_dependency(requirement_name(name_part), url_part.split(";", 1)[0].strip())
        yield Hit("DEP-URL", severity, line, message)
    elif is_url_requirement(spec):
        severity, message = url_dependency(None, spec.split(";", 1)[0].split()[0])
        yield Hit("DEP-URL", severity, line, message)
    elif spec.startswith((".", "/", "file:")) or spec.endswith((".whl", ".tar.gz", ".zip")):
        yield Hit("DEP-URL", LOW, line, f"dependency from a local path {spec[:80]!r}")
    elif (name := requirement_name(spec)) and (real := typosquat_of(name)):
        yield Hit("DEP-TYPOSQUAT", HIGH, line, f"dependency {name!r} is a near-copy of the popular {real!r}")
    yield from advisories.requirement_hits(_PER_REQUIREMENT_OPTION.split(spec, maxsplit=1)[0], line)


def requirements_hits(source: SourceText) -> Iterator[Hit]:
    for line, entry in _logical_lines(source.text):
        if entry.startswith("-"):
            yield from _option_hits(entry, line)
        else:
            yield from spec_hits(entry, line)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines without comments, continuation lines joined; numbered by their first physical line."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = _COMMENT.sub("", raw).rstrip()
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        entry = (pending + stripped).strip()
        pending = ""
        if entry:
            yield start, entry


def _option_hits(entry: str, line: int) -> Iterator[Hit]:
    parts = re.split(r"[=\s]+", entry, maxsplit=1)
    option, value = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if option in _INDEX_OPTIONS or option == "--trusted-host":
        if (hit := index_hit(option, value, line)) is not None:
            yield hit
    elif option in ("-e", "--editable"):
        if is_url_requirement(value):
            severity, message = url_dependency(None, value)
            yield Hit("DEP-URL", severity, line, "editable " + message)
        else:
            yield Hit("DEP-URL", LOW, line, f"editable install of the local path {value[:80]!r}")


def pyproject_hits(source: SourceText) -> Iterator[Hit]:
    try:
        data = tomllib.loads(source.text)
    except (tomllib.TOMLDecodeError, UnicodeError, RecursionError) as exc:
        yield Hit("SCAN-INCOMPLETE", LOW, None, f"pyproject.toml does not parse: {str(exc)[:120]}")
        return
    for spec in _pep508_specs(data):
        yield from spec_hits(spec, _line_of(source.text, spec))
    yield from _tool_hits(data, source.text)


def _pep508_specs(data: dict[str, Any]) -> Iterator[str]:
    project = _table(data, "project")
    yield from _strings(project.get("dependencies"))
    for group in _table(project, "optional-dependencies").values():
        yield from _strings(group)
    yield from _strings(_table(data, "build-system").get("requires"))
    for group in _table(data, "dependency-groups").values():
        yield from _strings(group)


def _tool_hits(data: dict[str, Any], text: str) -> Iterator[Hit]:
    tool = _table(data, "tool")
    poetry, uv = _table(tool, "poetry"), _table(tool, "uv")
    sources = {**_table(poetry, "dependencies"), **_table(uv, "sources")}
    for name, spec in sources.items():
        if isinstance(spec, dict):
            url = spec.get("git") or spec.get("url")
            if isinstance(url, str):
                severity, message = url_dependency(normalize(name), url)
                yield Hit("DEP-URL", severity, _line_of(text, url), message)
        elif isinstance(spec, str) and (real := typosquat_of(name)) and name != "python":
            yield Hit("DEP-TYPOSQUAT", HIGH, _line_of(text, name), f"dependency {name!r} imitates {real!r}")
        if isinstance(spec, str) and name != "python":
            # Poetry's bare version is an exact pin; its caret and tilde forms are not PEP 440 and are skipped.
            pep440 = f"=={spec}" if spec[:1].isdigit() else spec
            yield from advisories.specifier_hits(name, "" if spec == "*" else pep440, _line_of(text, name))
    indexes = [*_list(poetry.get("source")), *_list(uv.get("index"))]
    for index in indexes:
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            hit = index_hit("--extra-index-url", index["url"], _line_of(text, index["url"]))
            if hit is not None:
                yield hit


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> Iterator[str]:
    yield from (item for item in _list(value) if isinstance(item, str))


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1
