"""The scanner engine: safe unpacking of an uploaded node pack, malware and policy rules, node extraction.

`scan_archive(path_or_file, limits)` returns a `ScanReport`; it never raises on a hostile archive. The Cloud
Storage entry point lives in `main.py`; `python -m functions.scanner PATH` runs the same scan from a shell.
The names below load on first use, so that importing the entry module stays cheap (cold start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_EXPORTS = {
    "scan_archive": "functions.scanner.engine",
    "ScanLimits": "functions.scanner.limits",
    "SCANNER_VERSION": "functions.scanner.report",
    "ExtractedNode": "functions.scanner.report",
    "Extraction": "functions.scanner.report",
    "Finding": "functions.scanner.report",
    "ScanReport": "functions.scanner.report",
    "Severity": "functions.scanner.report",
    "Verdict": "functions.scanner.report",
    "RULES": "functions.scanner.rules",
}
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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'functions.scanner' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
