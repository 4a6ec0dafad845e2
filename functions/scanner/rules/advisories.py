"""Known-compromised dependency versions: a requirement that pins, or whose range allows, a release published
maliciously (OSV's malicious-package `MAL-` records, and advisories about compromised releases such as
Ultralytics 8.3.41, 8.3.42, 8.3.45 and 8.3.46 of December 2024).

The data is a compact set of OSV records for PyPI (https://ossf.github.io/osv-schema/): the snapshot shipped in
`functions/scanner/data/osv_pypi_malicious.json`, replaced in the cloud by the one `scanner-advisories-refresh`
stores (see `functions/scanner/advisories_job.py`). A specifier is tested against the affected versions with
`packaging`.

Severity, so that an honest pack with an open range is reported and never flagged:
- CRITICAL (flags): an exact pin of an affected version; a package that is malicious in every version (a `MAL-`
  record with `introduced: 0` and no fix: the name itself is the malware); a range that admits affected versions
  and none of the clean versions around them (e.g. `>=8.3.41,<8.3.43`), so pip can only install a bad one.
- MEDIUM (reported): a range that admits an affected version among clean ones (`ultralytics>=8.3.0`): pip installs
  the newest admitted version, and compromised releases are removed from PyPI, but the range should exclude them.
- LOW (reported): no version constraint at all on a package that once had compromised releases.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from functions.scanner.rules.base import CRITICAL, LOW, MEDIUM, Hit
from functions.scanner.rules.typosquat import normalize

SNAPSHOT = Path(__file__).resolve().parent.parent / "data" / "osv_pypi_malicious.json"
RULE = "DEP-COMPROMISED"
_FAR = Version("999999")


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    versions: frozenset[Version]
    # ECOSYSTEM ranges as (introduced, fixed or last_affected inclusive?, bound): see `affects`.
    ranges: tuple[tuple[Version, Version | None, bool], ...] = ()

    @property
    def every_version(self) -> bool:
        return any(start == Version("0") and end is None for start, end, _ in self.ranges)

    def affects(self, version: Version) -> bool:
        if version in self.versions:
            return True
        for start, end, inclusive in self.ranges:
            if version >= start and (end is None or version < end or (inclusive and version == end)):
                return True
        return False

    def label(self) -> str:
        return ", ".join((self.id, *self.aliases[:2]))


@dataclass
class AdvisoryIndex:
    by_package: dict[str, list[Advisory]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def from_json(cls, data: bytes | str, source: str = "") -> AdvisoryIndex:
        document = json.loads(data)
        records = document.get("records", []) if isinstance(document, dict) else document
        generated = str(document.get("generated", "")) if isinstance(document, dict) else ""
        index = cls(source=source or generated)
        for record in records if isinstance(records, list) else []:
            for name, advisory in _advisories(record):
                index.by_package.setdefault(name, []).append(advisory)
        return index

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_package.values())


def _advisories(record: Any) -> Iterator[tuple[str, Advisory]]:
    if not isinstance(record, dict) or record.get("withdrawn") or not isinstance(record.get("id"), str):
        return
    aliases = tuple(a for a in record.get("aliases", []) if isinstance(a, str))
    summary = str(record.get("summary") or "")[:200]
    for affected in record.get("affected", []) or []:
        package = affected.get("package", {}) if isinstance(affected, dict) else {}
        if package.get("ecosystem") != "PyPI" or not isinstance(package.get("name"), str):
            continue
        versions = frozenset(_versions(affected.get("versions", [])))
        ranges = tuple(_ranges(affected.get("ranges", [])))
        if versions or ranges:
            yield normalize(package["name"]), Advisory(record["id"], aliases, summary, versions, ranges)


def _versions(values: Iterable[Any]) -> Iterator[Version]:
    for value in values if isinstance(values, list) else []:
        try:
            yield Version(str(value))
        except InvalidVersion:
            continue


def _ranges(values: Any) -> Iterator[tuple[Version, Version | None, bool]]:
    """OSV ECOSYSTEM ranges as (introduced, end, end inclusive); `fixed` ends before, `last_affected` at."""
    for entry in values if isinstance(values, list) else []:
        if not isinstance(entry, dict) or entry.get("type") != "ECOSYSTEM":
            continue
        start: Version | None = None
        for event in entry.get("events", []):
            try:
                if "introduced" in event:
                    start = Version(str(event["introduced"]))
                elif start is not None and ("fixed" in event or "last_affected" in event):
                    inclusive = "last_affected" in event
                    yield start, Version(str(event["last_affected" if inclusive else "fixed"])), inclusive
                    start = None
            except (InvalidVersion, TypeError):
                start = None
        if start is not None:
            yield start, None, False


_lock = threading.Lock()
_current: AdvisoryIndex | None = None


def shipped() -> AdvisoryIndex:
    return AdvisoryIndex.from_json(SNAPSHOT.read_bytes(), source="shipped snapshot")


def current() -> AdvisoryIndex:
    """The index the rules use: the one installed by `use`, else the shipped snapshot (loaded once)."""
    global _current
    with _lock:
        if _current is None:
            _current = shipped()
        return _current


def use(index: AdvisoryIndex | None) -> None:
    """Install another index (a refreshed snapshot); None goes back to the shipped one."""
    global _current
    with _lock:
        _current = index


def requirement_hits(spec: str, line: int | None, index: AdvisoryIndex | None = None) -> Iterator[Hit]:
    """DEP-COMPROMISED for one PEP 508 requirement that can resolve to a maliciously published release."""
    try:
        requirement = Requirement(spec.strip())
    except InvalidRequirement:
        return
    if requirement.url:
        return  # not resolved from the index: DEP-URL judges it
    yield from specifier_hits(requirement.name, requirement.specifier, line, index)


def specifier_hits(
    name: str, specifier: SpecifierSet | str, line: int | None, index: AdvisoryIndex | None = None
) -> Iterator[Hit]:
    advisories = (index or current()).by_package.get(normalize(name), [])
    if not advisories:
        return
    if isinstance(specifier, str):
        try:
            specifier = SpecifierSet(specifier)
        except InvalidSpecifier:
            return
    for advisory in advisories:
        if (hit := _judge(name, specifier, advisory, line)) is not None:
            yield hit


def _judge(name: str, specifier: SpecifierSet, advisory: Advisory, line: int | None) -> Hit | None:
    what = f"{name}{specifier}" if str(specifier) else name
    if advisory.every_version:
        return Hit(RULE, CRITICAL, line, f"dependency {name!r} is a malicious package ({advisory.label()})")
    pinned = _pin(specifier)
    if pinned is not None:
        if advisory.affects(pinned):
            return Hit(RULE, CRITICAL, line, f"{what} pins a compromised release ({advisory.label()})")
        return None
    # The listed versions, where each range starts, and the versions the specifier itself names (`>=8.3.45`).
    candidates = {*advisory.versions, *(s for s, _, _ in advisory.ranges), *_named(specifier)}
    bad = [v for v in candidates if advisory.affects(v) and specifier.contains(v, prereleases=True)]
    if not bad:
        return None
    shown = ", ".join(str(v) for v in sorted(set(bad))[:6])
    if not str(specifier):
        return Hit(RULE, LOW, line, f"{name} is unpinned; compromised releases exist: {shown} ({advisory.label()})")
    if not any(specifier.contains(p, prereleases=True) for p in _clean_probes(advisory)):
        return Hit(RULE, CRITICAL, line, f"{what} only admits compromised releases: {shown} ({advisory.label()})")
    return Hit(RULE, MEDIUM, line, f"{what} admits compromised releases {shown}; exclude them ({advisory.label()})")


def _pin(specifier: SpecifierSet) -> Version | None:
    """The one version an exact pin (`==1.2.3` without a wildcard, or `===1.2.3`) allows."""
    for spec in specifier:
        if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
            try:
                return Version(spec.version)
            except InvalidVersion:
                return None
    return None


def _named(specifier: SpecifierSet) -> Iterator[Version]:
    for spec in specifier:
        try:
            yield Version(spec.version.removesuffix(".*"))
        except InvalidVersion:
            continue


def _clean_probes(advisory: Advisory) -> list[Version]:
    """Versions next to the affected ones (and far below and above) that are not affected: a range admitting none of
    them admits only bad releases, as far as anyone can tell without the index's list of releases."""
    probes = {Version("0"), _FAR}
    points = [*advisory.versions, *(s for s, _, _ in advisory.ranges), *(e for _, e, _ in advisory.ranges if e)]
    for version in points:
        release = list(version.release)
        for step in (-1, 1):
            bumped = [*release[:-1], release[-1] + step]
            if bumped[-1] >= 0:
                probes.add(Version(".".join(map(str, bumped))))
    return sorted(p for p in probes if not advisory.affects(p))
