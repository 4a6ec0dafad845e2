"""Assembling a function's OpenAPI document from its core file and its areas' fragments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def merge(core: dict[str, Any], fragment: dict[str, Any], name: str) -> None:
    """Add a fragment's paths and components; a name defined twice is an error, not a silent override."""
    for path, item in (fragment.get("paths") or {}).items():
        target = core.setdefault("paths", {}).setdefault(path, {})
        for key, value in item.items():
            if key in target:
                raise ValueError(f"{name}: {key.upper()} {path} is already defined")
            target[key] = value
    for section, entries in (fragment.get("components") or {}).items():
        target = core.setdefault("components", {}).setdefault(section, {})
        for key, value in entries.items():
            if key in target:
                raise ValueError(f"{name}: components.{section}.{key} is already defined")
            target[key] = value
    for tag in fragment.get("tags") or []:
        core.setdefault("tags", []).append(tag)


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh) or {}
    return data


def assemble(folder: Path) -> dict[str, Any]:
    """A function's document: its `openapi.yaml`, and the paths and components of each area's `*/openapi.yaml`."""
    data = load(folder / "openapi.yaml")
    for fragment in sorted(folder.glob("*/openapi.yaml")):
        merge(data, load(fragment), f"{fragment.parent.name}/{fragment.name}")
    return data
