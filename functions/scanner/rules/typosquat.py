"""Dependency names one slip away from a popular package: the classic way into `pip install` lists."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent.parent / "data" / "popular_packages.txt"
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
# Look-alike characters people (and squatters) swap: the candidate is mapped back towards the original.
_LOOKALIKES = (("0", "o"), ("1", "l"), ("1", "i"), ("rn", "m"), ("vv", "w"), ("5", "s"), ("3", "e"))
_MIN_LENGTH = 5  # below this, one edit away covers too many unrelated real names


def normalize(name: str) -> str:
    """PEP 503: case and runs of `-`, `_`, `.` do not distinguish projects."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str | None:
    match = _NAME.match(spec)
    return normalize(match.group(1)) if match else None


@lru_cache(maxsize=1)
def popular() -> dict[str, bool]:
    """Normalized name -> True when the project has official wheels everywhere (never needs a custom URL)."""
    table: dict[str, bool] = {}
    for raw in _DATA.read_text(encoding="utf-8").splitlines():
        fields = raw.split("#", 1)[0].split()
        if fields:
            table[normalize(fields[0])] = "pure" in fields[1:]
    return table


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, str], dict[tuple[str, ...], str], dict[int, list[str]]]:
    collapsed: dict[str, str] = {}
    permuted: dict[tuple[str, ...], str] = {}
    by_length: dict[int, list[str]] = {}
    for name in popular():
        collapsed.setdefault(name.replace("-", ""), name)
        permuted.setdefault(tuple(sorted(name.split("-"))), name)
        by_length.setdefault(len(name), []).append(name)
    return collapsed, permuted, by_length


def typosquat_of(name: str) -> str | None:
    """The popular project `name` imitates, or None (a listed project is never a typosquat)."""
    name = normalize(name)
    table = popular()
    if name in table or len(name) < _MIN_LENGTH:
        return None
    collapsed, permuted, by_length = _indexes()
    for old, new in _LOOKALIKES:
        variant = name.replace(old, new)
        if variant != name and variant in table:
            return variant
    if (real := collapsed.get(name.replace("-", ""))) is not None:
        return real
    if "-" in name and (real := permuted.get(tuple(sorted(name.split("-"))))) is not None:
        return real
    for length in (len(name) - 1, len(name), len(name) + 1):
        for candidate in by_length.get(length, ()):
            if len(candidate) >= _MIN_LENGTH and one_edit_apart(name, candidate):
                return candidate
    return None


def one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein (optimal string alignment) distance exactly 1: one insertion, deletion,
    substitution or swap of two neighbouring characters."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if len(a) != len(b):
        return a[start:] == b[start + 1 :]
    if a[start + 1 :] == b[start + 1 :]:
        return True
    swapped = start + 1 < len(a) and a[start] == b[start + 1] and a[start + 1] == b[start]
    return swapped and a[start + 2 :] == b[start + 2 :]
