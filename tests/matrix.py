"""What the authorization matrices share (tests/registry/ and tests/billing/test_authorization_matrix.py): a row per
route naming every kind of caller as allowed, refused or not applicable, and the check that runs a row: refused
callers first, each leaving every table as it was, then each allowed caller succeeding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from werkzeug.routing import Map, Rule
from werkzeug.test import TestResponse

from shared.http.router import Route
from tests.faults.support import changes, snapshot
from tests.support import RegistryClient

C = TypeVar("C", bound=Enum)
W = TypeVar("W")


@dataclass(frozen=True)
class Call:
    path: str
    json_body: Any = None
    query: dict[str, Any] | None = None
    headers: dict[str, str] | None = None  # besides the caller's credentials (a webhook's signature)


@dataclass(frozen=True)
class Access(Generic[C]):
    """Each caller kind is allowed (with the success status), refused (with the status), or not applicable (why)."""

    allowed: dict[C, int]
    refused: dict[C, int]
    not_applicable: dict[C, str]


@dataclass(frozen=True)
class Row(Generic[W, C]):
    request: Callable[[W, C], Call]
    access: Access[C]
    mutates: bool = True  # an allowed call changes the database


def rows_name_every_caller(matrix: dict[str, Row[W, C]], callers: type[C], operation_ids: set[str]) -> None:
    assert set(matrix) == operation_ids
    everyone = set(callers)
    for operation_id, row in matrix.items():
        access = row.access
        groups: list[set[C]] = [set(access.allowed), set(access.refused), set(access.not_applicable)]
        named: set[C] = set().union(*groups)
        assert named == everyone, f"{operation_id} leaves out {everyone - named}"
        assert sum(len(g) for g in groups) == len(everyone), f"{operation_id} names a caller twice"
        assert access.allowed, f"{operation_id}: nobody may call it"


def check_row(
    api: RegistryClient,
    routes: Sequence[Route],
    route: Route,
    row: Row[W, C] | None,
    world: W,
    send: Callable[[Call, C], TestResponse],
) -> None:
    """Refused callers first, each changing nothing; then the allowed ones, each succeeding; the database changed
    exactly when the row says its calls do."""
    if row is None:
        raise AssertionError(
            f"{route.method} {route.path} ({route.operation_id}) has no row in the authorization matrix"
        )
    operation_of = Map(
        [Rule(r.path, endpoint=r.operation_id, methods=[r.method]) for r in routes], strict_slashes=False
    )
    before = snapshot(api.container)
    for caller, status in row.access.refused.items():
        call = row.request(world, caller)
        matched = operation_of.bind("localhost").match(call.path, method=route.method)[0]
        assert matched == route.operation_id, f"the row of {route.operation_id} calls {matched}"
        r = send(call, caller)
        assert r.status_code == status, f"{caller.value}: {r.status_code} {r.get_data(as_text=True)}"
        assert not changes(before, snapshot(api.container)), f"refused {caller.value} changed the database"
    for caller, status in row.access.allowed.items():
        r = send(row.request(world, caller), caller)
        assert r.status_code == status, f"{caller.value}: {r.status_code} {r.get_data(as_text=True)}"
    changed = changes(before, snapshot(api.container))
    assert bool(changed) == row.mutates, f"allowed calls changed: {changed}"
