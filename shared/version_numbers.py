"""Version numbers: normalised semantic versions, a sort key in their order, and `requires-comfyui` bounds."""

from __future__ import annotations

import re

import semver

from shared.errors import InvalidInput

_LOOSE = re.compile(r"^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
# sort_key pads major, minor and patch to this many digits: a longer number would sort out of order (and could
# outgrow the 200-character sort_key column).
MAX_NUMBER_DIGITS = 10


def normalize(raw: str) -> str:
    """`1.0` -> `1.0.0`, `v2.1.3` -> `2.1.3`; anything that is not a version the registry can order raises
    InvalidInput."""
    text = (raw or "").strip()
    match = _LOOSE.match(text)
    if not match or len(text) > 128:
        raise InvalidInput(f"Invalid semantic version: {raw!r}", code="invalid_version")
    major, minor, patch, rest = match.groups()
    numbers = [str(int(n or 0)) for n in (major, minor, patch)]
    # Counted after dropping leading zeros: `01.2.3` is `1.2.3`.
    if any(len(n) > MAX_NUMBER_DIGITS for n in numbers):
        raise InvalidInput(
            f"Invalid semantic version {raw[:40]!r}: major, minor and patch may have at most "
            f"{MAX_NUMBER_DIGITS} digits each",
            code="invalid_version",
        )
    candidate = ".".join(numbers) + rest
    try:
        return str(semver.Version.parse(candidate))
    except ValueError as exc:
        raise InvalidInput(f"Invalid semantic version: {raw!r}", code="invalid_version") from exc


def normalize_or_none(raw: str) -> str | None:
    """`normalize`, or None for what is not a version (a lookup by such a number finds nothing)."""
    try:
        return normalize(raw)
    except InvalidInput:
        return None


def sort_key(version: str) -> str:
    """A string whose lexical order is semver precedence (prerelease below release; build ignored)."""
    v = semver.Version.parse(version)
    head = f"{v.major:010d}.{v.minor:010d}.{v.patch:010d}"
    if not v.prerelease:
        return head + "~"  # '~' sorts after every prerelease character
    parts = []
    for part in v.prerelease.split("."):
        parts.append(f"0{int(part):010d}" if part.isdigit() else f"1{part}")
    return head + "-" + ".".join(parts)[:150]


_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|~=|>|<|=)?\s*([vV]?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?)\s*$")
_AFTER = "~~"  # appended to a key, it sorts after that version and before the next one


def specifier_bounds(spec: str) -> tuple[str | None, str | None]:
    """Sort-key bounds [low, high) of a `requires-comfyui` specifier such as `>=0.3.0,<0.4`.

    Unreadable specifiers give (None, None): we never hide a node because we could not read its claim."""
    low: str | None = None
    high: str | None = None
    for clause in filter(None, (c.strip() for c in (spec or "").split(","))):
        match = _CLAUSE.match(clause)
        if not match:
            return None, None
        op, raw = match.group(1) or "==", match.group(2)
        try:
            key = sort_key(normalize(raw))
        except (InvalidInput, ValueError):
            return None, None
        if op in (">=", "~="):
            low = max(low or key, key)
        elif op == ">":
            low = max(low or key, key + _AFTER)
        elif op == "<":
            high = min(high or key, key)
        elif op == "<=":
            high = min(high or key + _AFTER, key + _AFTER)
        elif op in ("==", "="):
            low, high = max(low or key, key), min(high or key + _AFTER, key + _AFTER)
    return low, high
