"""Who may make each kind of gateway call: one row per kind of operation in the catalog (a synchronous call, a
submit, a poll of a job, a read of its result, a free helper, the spec's dummy), every kind of caller named as
allowed (with the status) or refused (with the status). Refused callers go first and must leave every table as it
was and reach no partner; then each allowed caller must succeed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from sqlalchemy import update

from shared.db.billing_models import ApiKey
from shared.db.types import utcnow
from tests.faults.support import changes, snapshot
from tests.proxy.support import ProxyClient

USD = 1_000_000


class Caller(Enum):
    ANONYMOUS = "anonymous"
    FIREBASE = "the customer (Firebase)"
    KEY = "the customer (API key)"
    OTHER = "another customer (API key)"
    DELETED_KEY = "a deleted API key"
    EXPIRED_KEY = "an expired API key"
    NOT_A_CUSTOMER = "a Firebase user who is no customer"
    BROKE = "a customer without credit (API key)"


C = Caller


@dataclass
class World:
    keys: dict[Caller, str]
    jobs: dict[str, str]  # what the customer submitted: kind -> partner job id


@dataclass(frozen=True)
class Row:
    method: str
    path: Callable[[World], str]
    body: Any
    allowed: dict[Caller, int]
    refused: dict[Caller, int]


BAD = {C.ANONYMOUS: 401, C.DELETED_KEY: 401, C.EXPIRED_KEY: 401}
OWNERS = {C.FIREBASE: 200, C.KEY: 200}
MATRIX: dict[str, Row] = {
    "sync call": Row(
        "POST",
        lambda w: "/proxy/recraft/image_generation",
        {"prompt": "x"},
        {**OWNERS, C.OTHER: 200},
        {**BAD, C.NOT_A_CUSTOMER: 402, C.BROKE: 402},
    ),
    "submit": Row(
        "POST",
        lambda w: "/proxy/runway/image_to_video",
        {"duration": 5},
        {**OWNERS, C.OTHER: 200},
        {**BAD, C.NOT_A_CUSTOMER: 402, C.BROKE: 402},
    ),
    "poll of the customer's job": Row(
        "GET",
        lambda w: f"/proxy/luma/generations/{w.jobs['luma']}",
        None,
        OWNERS,
        {**BAD, C.OTHER: 404, C.NOT_A_CUSTOMER: 404, C.BROKE: 404},
    ),
    "read of the customer's result": Row(
        "GET",
        lambda w: f"/proxy/openai/v1/videos/{w.jobs['openai']}/content",
        None,
        OWNERS,
        {**BAD, C.OTHER: 404, C.NOT_A_CUSTOMER: 404, C.BROKE: 404},
    ),
    "free helper": Row(
        "POST",
        lambda w: "/proxy/pixverse/image/upload",
        {},
        {**OWNERS, C.OTHER: 200, C.NOT_A_CUSTOMER: 200, C.BROKE: 200},
        BAD,
    ),
    "the spec's dummy": Row(
        "POST",
        lambda w: "/proxy/dummy",
        {},
        {**OWNERS, C.OTHER: 200, C.NOT_A_CUSTOMER: 200, C.BROKE: 200},
        BAD,
    ),
}


def build_world(proxy: ProxyClient) -> World:
    keys = {
        C.KEY: proxy.customer("cust", 10 * USD),
        C.OTHER: proxy.customer("other", 10 * USD),
        C.BROKE: proxy.customer("broke", 0),
        C.DELETED_KEY: proxy.customer("gone", 10 * USD),
        C.EXPIRED_KEY: proxy.customer("old", 10 * USD),
    }
    with proxy.container.sessions() as s:
        for caller, column, value in (
            (C.DELETED_KEY, "deleted_at", utcnow()),
            (C.EXPIRED_KEY, "expires_at", utcnow() - timedelta(seconds=1)),
        ):
            s.execute(
                update(ApiKey)
                .where(ApiKey.customer_id == ("gone" if caller is C.DELETED_KEY else "old"))
                .values({column: value})
            )
        s.commit()
    luma = proxy.with_key("POST", "/proxy/luma/generations", keys[C.KEY], json_body={"prompt": "x"}).get_json()["id"]
    video = proxy.with_key("POST", "/proxy/openai/v1/videos", keys[C.KEY], json_body={"seconds": "4"}).get_json()["id"]
    for caller in (C.OTHER, C.BROKE):  # a key's use is recorded to the minute: this one, before the rows run
        assert proxy.get("/customers/me", headers={"X-API-Key": keys[caller]}).status_code == 200
    return World(keys, {"luma": luma, "openai": video})


def send(proxy: ProxyClient, world: World, row: Row, caller: Caller) -> Any:
    headers: dict[str, str] = {}
    as_ = None
    if caller is C.FIREBASE:
        as_ = "cust"
    elif caller is C.NOT_A_CUSTOMER:
        as_ = "stranger"
    elif caller in world.keys:
        headers["X-API-Key"] = world.keys[caller]
    return proxy.call(row.method, row.path(world), as_=as_, json_body=row.body, headers=headers)


def test_every_row_names_every_caller() -> None:
    for name, row in MATRIX.items():
        named = set(row.allowed) | set(row.refused)
        assert named == set(Caller) and not set(row.allowed) & set(row.refused), name


@pytest.mark.parametrize("kind", list(MATRIX))
def test_only_allowed_callers_pass_and_refusals_change_nothing(proxy: ProxyClient, kind: str) -> None:
    world = build_world(proxy)
    row = MATRIX[kind]
    before, reached = snapshot(proxy.container), len(proxy.fakes.received())
    for caller, status in row.refused.items():
        r = send(proxy, world, row, caller)
        assert r.status_code == status, f"{caller.value}: {r.status_code} {r.get_data(as_text=True)}"
        assert not changes(before, snapshot(proxy.container)), f"refused {caller.value} changed the database"
    assert len(proxy.fakes.received()) == reached, "a refused call reached a partner"
    for caller, status in row.allowed.items():
        r = send(proxy, world, row, caller)
        assert r.status_code == status, f"{caller.value}: {r.status_code} {r.get_data(as_text=True)}"
    proxy.assert_balanced()
