"""`/health` and `/openapi`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from flask import Request, Response

from shared.http.responses import json_response

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
# Each area of the API keeps its paths and schemas in a fragment of its own, merged into the core document.
FRAGMENTS = Path(__file__).resolve().parent.parent / "openapi"


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh) or {}
    return data


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


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    data = _load(SPEC_PATH)
    for fragment in sorted(FRAGMENTS.glob("*.yaml")):
        merge(data, _load(fragment), fragment.name)
    return data


def health(request: Request) -> Response:
    return Response("OK", mimetype="text/plain")


def openapi(request: Request) -> Response:
    return json_response(spec())
