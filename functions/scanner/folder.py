"""Which files of a folder `comfy node publish` puts in `node.zip`, so that scanning the folder judges what the
registry will judge. This follows comfy-cli's `zip_files` (comfy_cli/file_utils.py) step by step:

- in a git checkout, the files `git -C <folder> ls-files` lists (so `.gitignore`d and untracked files are left out;
  a path git prints quoted, such as a non-ASCII name, is not found and left out, as comfy-cli does), except
  `node.zip` itself;
- outside one (or without git), every file of the tree but `.git` folders;
- minus what `.comfyignore` matches (git wildmatch patterns; blank lines and `#` comments skipped), except under the
  paths `[tool.comfy].includes` of pyproject.toml names, which are then added whole (an include that does not exist
  becomes an empty folder entry);
- files are stored with their content: a symbolic link is followed, as `zipfile.write` does (a dangling one is left
  out).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tomllib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ZIP_NAME = "node.zip"
Entry = tuple[str, Path | None]  # (name in the archive, file or folder to store; None: an empty folder entry)


def publish_entries(root: Path) -> list[Entry]:
    includes = _includes(root)
    prefixes = [_relative(posixpath.normpath(i.lstrip("/"))) for i in includes]
    ignored = _ignore_rule(root, prefixes)
    entries: dict[str, Path | None] = {}
    tracked = git_tracked(root)
    files = _tracked(root, tracked, ignored) if tracked else _walk(root, root, ignored)
    for name, path in files:
        entries.setdefault(name, path)
    for include in includes:
        _add_include(root, posixpath.normpath(include.lstrip("/")), ignored, entries)
    return list(entries.items())


def git_tracked(root: Path) -> list[str]:
    """`git ls-files` in the folder, or [] when git is missing or the folder is no checkout."""
    git = shutil.which("git")
    if git is None:
        return []
    try:
        listed = subprocess.run(  # noqa: S603 - git resolved on PATH, fixed arguments, no shell
            [git, "-C", os.fspath(root), "ls-files"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [line for line in listed.splitlines() if line.strip()]


def _relative(path: str) -> str:
    """comfy-cli's `_normalize_path`: relative to the folder, `/`-separated, '' for the folder itself."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    return "" if normal == "." else normal


def _includes(root: Path) -> list[str]:
    try:
        data: dict[str, Any] = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError):
        return []
    comfy = data.get("tool", {}).get("comfy", {}) if isinstance(data.get("tool"), dict) else {}
    includes = comfy.get("includes", []) if isinstance(comfy, dict) else []
    return [i for i in includes if isinstance(i, str)] if isinstance(includes, list) else []


def _ignore_rule(root: Path, prefixes: list[str]) -> Callable[[str], bool]:
    try:
        with (root / ".comfyignore").open(encoding="utf-8") as handle:
            patterns = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    except OSError:
        patterns = []
    if not patterns:
        return lambda rel: False
    from pathspec import PathSpec  # the CLI's dependency only (requirements-dev.txt), as comfy-cli's

    with warnings.catch_warnings():  # pathspec 1.x calls comfy-cli's "gitwildmatch" deprecated; it is what matches
        warnings.simplefilter("ignore", DeprecationWarning)
        spec = PathSpec.from_lines("gitwildmatch", patterns)

    def ignored(rel: str) -> bool:
        forced = any(rel == p or rel.startswith(p + "/") for p in prefixes if p)
        return not forced and spec.match_file(rel)

    return ignored


def _tracked(root: Path, tracked: list[str], ignored: Callable[[str], bool]) -> Iterator[Entry]:
    for line in tracked:
        if line == ZIP_NAME:
            continue
        rel = _relative(line)
        path = root / rel
        if ignored(rel) or not path.exists():
            continue
        yield rel or path.name, path


def _walk(root: Path, top: Path, ignored: Callable[[str], bool]) -> Iterator[Entry]:
    zip_path = os.path.abspath(root / ZIP_NAME)
    for dirpath, dirs, files in os.walk(top):
        if ".git" in dirs:
            dirs.remove(".git")
        base = Path(dirpath)
        dirs[:] = sorted(d for d in dirs if not ignored(_relative((base / d).relative_to(root).as_posix())))
        for name in sorted(files):
            path = base / name
            rel = _relative(path.relative_to(root).as_posix())
            if os.path.abspath(path) == zip_path or ignored(rel) or not path.exists():
                continue
            yield rel, path


def _add_include(root: Path, include: str, ignored: Callable[[str], bool], entries: dict[str, Path | None]) -> None:
    rel = _relative(include)
    path = root / rel
    if path.is_file():
        if not ignored(rel):
            entries.setdefault(rel, path)
    elif not path.exists():
        entries.setdefault(rel.rstrip("/") + "/", None)
    else:
        for name, found in _walk(root, path, ignored):
            entries.setdefault(name, found)
