"""The scanner engine: safe unpacking of an uploaded node pack, malware and policy rules, node extraction.

`scan_archive(path_or_file, limits)` returns a `ScanReport`; it never raises on a hostile archive. The Cloud
Storage entry point lives in `main.py`; `python -m functions.scanner PATH` runs the same scan from a shell.
"""

from __future__ import annotations

from functions.scanner.engine import scan_archive
from functions.scanner.limits import ScanLimits
from functions.scanner.report import (
    SCANNER_VERSION,
    ExtractedNode,
    Extraction,
    Finding,
    ScanReport,
    Severity,
    Verdict,
)
from functions.scanner.rules import RULES

__all__ = [
    "RULES",
    "SCANNER_VERSION",
    "ExtractedNode",
    "Extraction",
    "Finding",
    "ScanLimits",
    "ScanReport",
    "Severity",
    "Verdict",
    "scan_archive",
]
