"""Which members the rules read, and as what."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from functions.scanner.limits import ScanLimits


class Kind(StrEnum):
    PYTHON = "python"
    JAVASCRIPT = "javascript"
    HTML = "html"
    SHELL = "shell"
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"


_BY_EXTENSION = {
    ".py": Kind.PYTHON,
    ".pyw": Kind.PYTHON,
    ".js": Kind.JAVASCRIPT,
    ".mjs": Kind.JAVASCRIPT,
    ".cjs": Kind.JAVASCRIPT,
    ".ts": Kind.JAVASCRIPT,
    ".mts": Kind.JAVASCRIPT,
    ".cts": Kind.JAVASCRIPT,
    ".jsx": Kind.JAVASCRIPT,
    ".tsx": Kind.JAVASCRIPT,
    ".vue": Kind.JAVASCRIPT,
    ".svelte": Kind.JAVASCRIPT,
    ".html": Kind.HTML,
    ".htm": Kind.HTML,
    ".sh": Kind.SHELL,
    ".bash": Kind.SHELL,
    ".zsh": Kind.SHELL,
    ".command": Kind.SHELL,
    ".bat": Kind.SHELL,
    ".cmd": Kind.SHELL,
    ".ps1": Kind.SHELL,
    ".psm1": Kind.SHELL,
    ".vbs": Kind.SHELL,
}
_REQUIREMENTS = re.compile(r"^(requirements|constraints)[\w.-]*\.(txt|in)$", re.IGNORECASE)


@lru_cache(maxsize=64)  # asked twice per member in a row: by the keep policy while unpacking, then by the rules
def kind_of(name: str) -> Kind | None:
    base = name.rpartition("/")[2]
    stem, dot, extension = base.rpartition(".")
    kind = _BY_EXTENSION.get("." + extension.lower()) if dot and stem.strip(".") else None
    if kind is not None:
        return kind  # no source extension is .toml, .txt or .in
    if base == "pyproject.toml":
        return Kind.PYPROJECT
    if _REQUIREMENTS.match(base) or (name.lower().startswith("requirements/") and base.endswith(".txt")):
        return Kind.REQUIREMENTS
    return None


def keep_policy(limits: ScanLimits) -> KeepFor:
    return KeepFor(limits.max_text_bytes)


class KeepFor:
    """Keeps the content of the files some rule reads, up to the text limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def __call__(self, name: str) -> int:
        return self.max_bytes if kind_of(name) is not None else 0


def is_install_script(name: str) -> bool:
    """ComfyUI-Manager runs `install.py` at the pack's root after unpacking; comfy-cli does the same."""
    return name.rsplit("/", 1)[-1] in ("install.py", "setup.py", "prestartup_script.py") and name.count("/") <= 1


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]
