"""Build each function folder's deployable source: `python -m tools.package [--out build] [folder ...]`.

Cloud Functions installs `requirements.txt` and loads `main.py` from the root of the uploaded source, so
build/<folder>/ holds exactly what one folder needs: functions/<folder>/, shared/, the folder's own
requirements.txt at the root, and a main.py that re-exports every entry point deployed from that folder
(shared/routing.py says which). No other function folder is copied: an import of one fails in the package.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from shared import routing

ROOT = Path(__file__).resolve().parent.parent
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


def folders() -> dict[str, list[routing.Function]]:
    """Each function folder's name (functions/<name>/) and the functions deployed from it, in table order."""
    found: dict[str, list[routing.Function]] = {}
    for fn in routing.deployed_functions():
        found.setdefault(_folder_name(fn.source), []).append(fn)
    return found


def _folder_name(source: str) -> str:
    parts = Path(source).parts
    if len(parts) != 2 or parts[0] != "functions":
        raise ValueError(f"a function's source must be functions/<name>, not {source!r}")
    return parts[1]


def entry_module(folder: str, functions: Sequence[routing.Function]) -> str:
    names = sorted({fn.entry_point for fn in functions})
    return (
        '"""Cloud Functions loads main.py at the source root: this folder\'s entry points."""\n\n'
        f"from functions.{folder}.main import {', '.join(names)}\n\n"
        f"__all__ = {json.dumps(names)}\n"
    )


def build(folder: str, functions: Sequence[routing.Function], out: Path, root: Path = ROOT) -> Path:
    """Write out/<folder>/ afresh and return it."""
    requirements = root / "functions" / folder / "requirements.txt"
    if not requirements.is_file():
        raise FileNotFoundError(f"functions/{folder}/requirements.txt is missing: each folder lists what it imports")
    target = out / folder
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copytree(root / "shared", target / "shared", ignore=_IGNORE)
    (target / "functions").mkdir()
    shutil.copy2(root / "functions" / "__init__.py", target / "functions" / "__init__.py")
    shutil.copytree(root / "functions" / folder, target / "functions" / folder, ignore=_IGNORE)
    shutil.copy2(requirements, target / "requirements.txt")
    (target / "main.py").write_text(entry_module(folder, functions))
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.package", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="where build/<folder>/ go (default: build)")
    parser.add_argument("folder", nargs="*", help="function folders to package (default: all)")
    args = parser.parse_args(argv)
    table = folders()
    unknown = sorted(set(args.folder) - set(table))
    if unknown:
        print(f"unknown function folders {unknown}; known: {sorted(table)}", file=sys.stderr)
        return 2
    failed = 0
    for folder in args.folder or sorted(table):
        try:
            path = build(folder, table[folder], args.out)
        except FileNotFoundError as exc:
            print(f"cannot package {folder}: {exc}", file=sys.stderr)
            failed += 1
            continue
        entry_points = ", ".join(fn.entry_point for fn in table[folder])
        print(f"packaged {path} ({entry_points})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
