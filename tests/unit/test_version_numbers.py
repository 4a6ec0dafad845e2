from __future__ import annotations

import pytest

from shared.errors import InvalidInput
from shared.version_numbers import normalize, sort_key


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("1.0", "1.0.0"),
        ("v2.1.3", "2.1.3"),
        ("1", "1.0.0"),
        ("01.02.03", "1.2.3"),
        ("1.0.0-beta.2", "1.0.0-beta.2"),
        ("1.0.0+build.7", "1.0.0+build.7"),
        (" 3.4.5 ", "3.4.5"),
    ],
)
def test_normalize(raw: str, canonical: str) -> None:
    assert normalize(raw) == canonical


@pytest.mark.parametrize("raw", ["", "x", "1.2.3.4", "1..2", "1.0.0-", "1.0.0-01", "v", "1.0.0 beta"])
def test_normalize_refuses_non_versions(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalize(raw)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("9999999999.9999999999.9999999999", "9999999999.9999999999.9999999999"),
        ("00000000001.0.0", "1.0.0"),  # leading zeros are dropped before counting
    ],
)
def test_normalize_accepts_numbers_of_up_to_ten_digits(raw: str, canonical: str) -> None:
    assert normalize(raw) == canonical


@pytest.mark.parametrize("raw", ["12345678901.0.0", "1.12345678901", "v1.0.12345678901-beta", "1.0.99999999999+b"])
def test_normalize_refuses_numbers_longer_than_sort_keys_pad(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize(raw)
    assert caught.value.code == "invalid_version"
    assert "at most 10 digits" in caught.value.message


def test_the_largest_numbers_still_sort_in_order() -> None:
    ordered = ["999999999.0.0", "1000000000.0.0", "9999999999.0.0", "9999999999.9999999999.9999999999"]
    assert sorted((normalize(v) for v in reversed(ordered)), key=sort_key) == ordered


def test_sort_key_follows_semver_precedence() -> None:
    ordered = [
        "0.9.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.9.0",
        "1.10.0",
        "10.0.0",
    ]
    assert sorted(ordered, key=sort_key) == ordered


def _admits(spec: str, version: str) -> bool:
    from shared.version_numbers import specifier_bounds

    low, high = specifier_bounds(spec)
    key = sort_key(normalize(version))
    return (low is None or low <= key) and (high is None or key < high)


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=0.3.0", "0.3.0", True),
        (">=0.3.0", "0.2.9", False),
        (">0.3.0", "0.3.0", False),
        (">0.3.0", "0.3.1", True),
        ("<0.4", "0.3.99", True),
        ("<0.4", "0.4.0", False),
        ("<=0.4", "0.4.0", True),
        ("<=0.4", "0.4.1", False),
        (">=0.3.10,<0.4", "0.3.9", False),
        (">=0.3.10,<0.4", "0.3.40", True),
        ("==0.3.1", "0.3.1", True),
        ("0.3.1", "0.3.2", False),
        ("", "9.9.9", True),
        ("nonsense", "0.1.0", True),
        ("!=0.3.1", "0.3.1", True),
    ],
)
def test_specifier_bounds(spec: str, version: str, expected: bool) -> None:
    assert _admits(spec, version) is expected
