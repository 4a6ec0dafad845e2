"""OSV's PyPI data (https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip, one OSV JSON record per entry)
filtered to what the scanner's DEP-COMPROMISED rule judges: releases published maliciously, never ordinary
vulnerabilities (a vulnerable version is a bug, not a verdict against the pack that depends on it).

A record is kept when it is an OpenSSF malicious-package record (`MAL-` id), when it names an embedded-malicious-code
weakness (CWE-506, CWE-507 trojan horse, CWE-912 hidden functionality), or when its summary or details say in so
many words that releases were compromised (the Ultralytics advisory PYSEC-2024-154 has no CWE). Phrases such as
"a malicious user could" are deliberately not enough."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Any

SCHEMA = "osv-pypi-malicious/1"
MALICIOUS_CWES = frozenset({"CWE-506", "CWE-507", "CWE-912"})
_COMPROMISED = re.compile(
    r"supply[- ]chain (?:attack|compromise)"
    r"|injected into the (?:pypi )?release"
    r"|compromised (?:releases?|versions?|builds?|wheels?|artifacts?)"
    r"|(?:releases?|versions?) [\w., ]{0,60}?(?:was|were|had been|have been) compromised"
    r"|(?:contain(?:s|ed)?|ship(?:s|ped)?|embedded|bundled) (?:a |an )?(?:crypto(?:currency)? ?|coin ?)miner",
    re.IGNORECASE,
)
_MAX_ENTRY_BYTES = 4 * 1024 * 1024
_MAX_ENTRIES = 500_000


def is_malicious(record: Any) -> bool:
    if not isinstance(record, dict) or record.get("withdrawn") or not isinstance(record.get("id"), str):
        return False
    if record["id"].startswith("MAL-"):
        return True
    if _cwes(record) & MALICIOUS_CWES:
        return True
    text = f"{record.get('summary') or ''}\n{str(record.get('details') or '')[:4000]}"
    return _COMPROMISED.search(text) is not None


def _cwes(record: dict[str, Any]) -> set[str]:
    """CWE ids where GitHub's records (`database_specific.cwe_ids`) and OpenSSF's (`affected[].database_specific.cwes`)
    keep them."""
    found: set[str] = set()
    specific = record.get("database_specific")
    if isinstance(specific, dict):
        found.update(c for c in specific.get("cwe_ids", []) or [] if isinstance(c, str))
    for affected in record.get("affected", []) or []:
        inner = affected.get("database_specific") if isinstance(affected, dict) else None
        if isinstance(inner, dict):
            found.update(c.get("cweId", "") for c in inner.get("cwes", []) or [] if isinstance(c, dict))
    return found


def compact(record: dict[str, Any]) -> dict[str, Any] | None:
    """The OSV fields the rule reads, for PyPI packages only (None when no PyPI package is affected)."""
    affected = [
        _compact_affected(a)
        for a in record.get("affected", []) or []
        if isinstance(a, dict) and isinstance(a.get("package"), dict) and a["package"].get("ecosystem") == "PyPI"
    ]
    affected = [a for a in affected if a.get("versions") or a.get("ranges")]
    if not affected:
        return None
    out: dict[str, Any] = {"id": record["id"], "affected": affected}
    for key in ("aliases", "summary", "published", "modified"):
        if record.get(key):
            out[key] = record[key] if key != "summary" else str(record[key])[:200]
    return out


def _compact_affected(affected: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": str(affected["package"].get("name", ""))}}
    versions = [str(v) for v in affected.get("versions", []) or []]
    ranges = [r for r in affected.get("ranges", []) or [] if isinstance(r, dict) and r.get("type") == "ECOSYSTEM"]
    if versions:
        out["versions"] = versions
    if ranges:
        out["ranges"] = [{"type": "ECOSYSTEM", "events": r.get("events", [])} for r in ranges]
    return out


def records_in_zip(archive: IO[bytes], counts: dict[str, int]) -> Iterator[dict[str, Any]]:
    """Every JSON record of OSV's zip, each entry bounded in size; unreadable entries are counted and skipped."""
    with zipfile.ZipFile(archive) as zipped:
        infos = [i for i in zipped.infolist() if i.filename.endswith(".json")][:_MAX_ENTRIES]
        for info in infos:
            counts["records"] = counts.get("records", 0) + 1
            if info.file_size > _MAX_ENTRY_BYTES:
                counts["skipped"] = counts.get("skipped", 0) + 1
                continue
            with zipped.open(info) as entry:
                raw = entry.read(_MAX_ENTRY_BYTES + 1)
            try:
                record = json.loads(raw)
            except ValueError:
                counts["skipped"] = counts.get("skipped", 0) + 1
                continue
            if isinstance(record, dict):
                yield record


def snapshot(records: Iterator[dict[str, Any]], *, generated: str, source: str, counts: dict[str, int]) -> bytes:
    """The compact snapshot the scanner reads (`rules/advisories.py`), sorted by id so equal data gives equal bytes."""
    kept = [c for r in records if is_malicious(r) and (c := compact(r)) is not None]
    kept.sort(key=lambda r: str(r["id"]))
    counts["kept"] = len(kept)
    document = {"schema": SCHEMA, "source": source, "generated": generated, "records": kept}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
