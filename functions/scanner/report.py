"""What a scan produces: findings, the verdict, the archive's identity and the extracted node definitions."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

# Bumped whenever a rule changes, so that a sweep can rescan what an older rule set judged.
SCANNER_VERSION = "2"  # 2: names built at run time, fetched web code, unsafe deserialisation, V3 nodes


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Verdict(StrEnum):
    CLEAN = "clean"
    SUSPICIOUS = "suspicious"
    UNREADABLE = "unreadable"


class Finding(BaseModel):
    rule: str
    severity: Severity
    file: str
    line: int | None = None
    excerpt: str = ""
    message: str = ""

    def sort_key(self) -> tuple[int, str, int]:
        return (-self.severity.rank, self.file, self.line or 0)


ExtractStatus = Literal["success", "partial", "failed"]


class ExtractedNode(BaseModel):
    """One ComfyUI node class, read statically; values the code computes are rendered as source text."""

    name: str
    display_name: str = ""
    class_name: str = ""
    file: str = ""
    line: int | None = None
    category: str = ""
    description: str = ""
    function: str = ""
    input_types: Any = None
    return_types: Any = None
    return_names: Any = None
    output_is_list: Any = None
    output_node: bool = False
    deprecated: bool = False
    experimental: bool = False
    # Attributes with parts the code computes (rendered as their source text), and ones not readable at all.
    computed: list[str] = Field(default_factory=list)
    unresolved: list[str] = Field(default_factory=list)

    def db_fields(self) -> dict[str, Any]:
        """The columns of `comfy_nodes` (JSON text where the wire carries strings)."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "category": self.category,
            "description": self.description,
            "input_types": _json_text(self.input_types),
            "return_types": _json_text(self.return_types),
            "return_names": _json_text(self.return_names),
            "output_is_list": [bool(v) for v in self.output_is_list] if isinstance(self.output_is_list, list) else [],
            "function": self.function,
            "output_node": self.output_node,
            "deprecated": self.deprecated,
            "experimental": self.experimental,
        }


def _json_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


class Extraction(BaseModel):
    status: ExtractStatus = "failed"
    reason: str = ""
    nodes: list[ExtractedNode] = Field(default_factory=list)


class ArchiveStats(BaseModel):
    files: int = 0
    directories: int = 0
    uncompressed_bytes: int = 0
    scanned_files: int = 0


class ScanReport(BaseModel):
    verdict: Verdict
    # Why the verdict is what it is, in one line: the reason of an unreadable archive, or a summary.
    reason: str = ""
    sha256: str | None = None
    size: int | None = None
    flag_at: Severity = Severity.HIGH
    findings: list[Finding] = Field(default_factory=list)
    findings_omitted: int = 0
    extraction: Extraction = Field(default_factory=Extraction)
    stats: ArchiveStats = Field(default_factory=ArchiveStats)
    scanner_version: str = SCANNER_VERSION

    @property
    def flagged(self) -> bool:
        return self.verdict != Verdict.CLEAN

    def status_reason(self, limit: int = 1000) -> str:
        """A short text for the version's status reason (the full findings are kept beside it)."""
        if self.verdict == Verdict.UNREADABLE:
            return f"unreadable archive: {self.reason}"[:limit]
        top = [f for f in self.findings if f.severity.rank >= self.flag_at.rank]
        parts = [f"{f.rule} in {f.file}" + (f":{f.line}" if f.line else "") for f in top[:10]]
        return ("; ".join(parts) or self.reason)[:limit]
