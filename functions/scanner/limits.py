"""Bounds on what one scan may read, keep and report; every field is meant to move into `Settings`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.scanner.report import Severity

MIB = 1024 * 1024


class ScanLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # The stored object itself; larger archives are refused before anything is decompressed.
    max_archive_bytes: int = Field(200 * MIB, gt=0)
    # Counted on the bytes actually decompressed, never on the sizes the headers declare.
    max_total_uncompressed_bytes: int = Field(1024 * MIB, gt=0)
    max_file_bytes: int = Field(512 * MIB, gt=0)
    # Entries in the central directory, directories included.
    max_files: int = Field(20_000, gt=0)
    # Read by zipfile in one piece, so it bounds that read's memory.
    max_central_directory_bytes: int = Field(16 * MIB, gt=0)
    # Decompressed over compressed size of one member; only checked past `ratio_min_bytes` so that
    # small, highly repetitive files (an empty JSON list padded with spaces) do not trip it.
    max_compression_ratio: float = Field(250.0, gt=1)
    ratio_min_bytes: int = Field(1 * MIB, ge=0)
    max_path_length: int = Field(400, gt=0)
    max_path_depth: int = Field(32, gt=0)
    # Content kept for the rules (sources, manifests); a larger file is only partly scanned.
    max_text_bytes: int = Field(16 * MIB, gt=0)
    # Python's AST costs about 300 bytes of memory per byte of dense source: above this, regex rules only.
    max_python_ast_bytes: int = Field(1 * MIB, gt=0)
    # An upload that is not seekable is spooled; past this it goes to a temporary file on disk.
    spool_memory_bytes: int = Field(16 * MIB, gt=0)
    # Wall-clock budget, checked between members, so a scan ends well before the function's own timeout
    # (which would only make the platform retry the same archive).
    max_scan_seconds: float = Field(300.0, gt=0)
    max_findings: int = Field(500, gt=0)
    max_extracted_nodes: int = Field(5_000, gt=0)
    # Any finding at or above this severity makes the pack `suspicious`.
    flag_at: Severity = Severity.HIGH

    # A scan that runs out of `max_scan_seconds` is retried with twice the budget, up to this cap.
    max_scan_seconds_cap: float = Field(600.0, gt=0)

    def budget(self, timeouts: int) -> float:
        """The wall-clock budget of a scan after `timeouts` scans of the same archive ran out of time."""
        cap = max(self.max_scan_seconds_cap, self.max_scan_seconds)
        return float(min(self.max_scan_seconds * 2.0 ** max(0, timeouts), cap))

    def attempts(self) -> int:
        """How many scans an archive gets before it waits for an admin: the budgets double until the cap."""
        count, budget = 1, self.max_scan_seconds
        while budget < self.max_scan_seconds_cap:
            budget, count = budget * 2, count + 1
        return count
