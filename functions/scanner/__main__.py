"""`python -m functions.scanner PATH`: scans a pack (a zip or a folder) and prints the report as JSON.

A folder is scanned as the `node.zip` that `comfy node publish` would upload from it: its git-tracked files minus
`.comfyignore`, plus `[tool.comfy].includes` (`folder.py`), so the verdict is the registry's. Dependencies are
judged against the advisory snapshot shipped with the scanner, or `--advisories FILE` (the registry's refreshed one).
Exit status: 0 clean, 1 the pack would be flagged, 2 the archive is unreadable (or the path does not exist).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from functions.scanner.engine import scan_archive
from functions.scanner.limits import ScanLimits
from functions.scanner.report import Severity, Verdict
from functions.scanner.rules import advisories

EXIT_CODES = {Verdict.CLEAN: 0, Verdict.SUSPICIOUS: 1, Verdict.UNREADABLE: 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.scanner", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a node pack: a .zip archive or a folder")
    parser.add_argument(
        "--flag-at", choices=[s.value for s in Severity], default=Severity.HIGH.value, help="lowest flagging severity"
    )
    parser.add_argument("--no-nodes", action="store_true", help="leave the extracted node definitions out")
    parser.add_argument("--compact", action="store_true", help="one line of JSON instead of indented output")
    parser.add_argument("--advisories", type=Path, help="an OSV snapshot (scanner-advisories-refresh's) to judge with")
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(f"no such file or folder: {args.path}", file=sys.stderr)
        return 2
    if args.advisories is not None:
        advisories.use(advisories.AdvisoryIndex.from_json(args.advisories.read_bytes(), source=str(args.advisories)))
    report = scan_archive(args.path, ScanLimits(flag_at=Severity(args.flag_at)))
    exclude = {"extraction": {"nodes"}} if args.no_nodes else None
    print(report.model_dump_json(indent=None if args.compact else 2, exclude=exclude))
    return EXIT_CODES[report.verdict]


if __name__ == "__main__":
    sys.exit(main())
