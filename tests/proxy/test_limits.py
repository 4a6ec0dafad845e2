"""Partner-node limits through the gateway, on SQLite and PostgreSQL: the caller's own concurrency, an operator's
overrides per customer and per model, the concurrency of the capped tier and the committed-spend ceiling enforced
with their headers, and both exact under a race of real HTTP calls."""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shared.ledger.accounts import EntryKind
from tests.proxy.support import ProxyClient

USD = 1_000_000
SECRET = "limits-admin-secret"
ADMIN = {"X-Comfy-Admin-Secret": SECRET}
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()
KLING = "/proxy/kling/v1/videos/text2video"  # $0.35 a clip (5 s at $0.07): of the capped tier
KLING_MODEL = "kling/v1/videos/text2video"
CHEAP = "/proxy/ideogram/ideogram-v3/generate"  # $0.03: below the capped tier's 10 cents
CHEAP_BODY = {"prompt": "x", "rendering_speed": "TURBO"}
DEFAULT_LADDER = [[0, 2, 1_000], [1, 5, 5_000], [10_000, 10, 20_000]]
OPEN = {"PROXY_MAX_IN_FLIGHT": 10_000, "PROXY_CALLS_PER_MINUTE": 10_000, "ADMIN_SECRET_DIGEST": DIGEST}


def settings(**more: object) -> list[dict[str, object]]:
    return [{**OPEN, **more}]


def paid(proxy: ProxyClient, uid: str, micros: int) -> None:
    with proxy.container.billing_uow() as uow:
        uow.ledger.grant(f"purchase:{uid}:{micros}", EntryKind.PURCHASE, uid, micros)
        uow.commit()


def submit(proxy: ProxyClient, key: str) -> tuple[int, dict[str, str]]:
    answer = proxy.with_key("POST", KLING, key, json_body={"prompt": "waves"})
    return answer.status_code, dict(answer.headers)


@pytest.mark.parametrize("proxy", settings(PROXY_LIMIT_LADDER=DEFAULT_LADDER), indirect=True)
def test_the_callers_limit_follows_the_spend_ladder_and_an_override(proxy: ProxyClient) -> None:
    key = proxy.customer("climber", 5 * USD)
    mine = proxy.with_key("GET", "/customers/me/partner-node-concurrency", key)
    assert mine.status_code == 200 and mine.get_json() == {"limit": 2, "reason": "never_paid"}
    paid(proxy, "climber", 20 * USD)  # 2,000 cents paid: the second step
    assert proxy.with_key("GET", "/customers/me/partner-node-concurrency", key).get_json() == {
        "limit": 5,
        "reason": "spend_ladder",
    }
    path = "/admin/customers/climber/partner-node-concurrency-override"
    assert proxy.put(path, json_body={"override": 12}, headers=ADMIN).status_code == 200
    assert proxy.with_key("GET", "/customers/me/partner-node-concurrency", key).get_json() == {
        "limit": 12,
        "reason": "manual_override",
    }
    view = proxy.get(path, headers=ADMIN).get_json()
    assert view == {
        "customer_id": "climber",
        "effective_limit": 12,
        "effective_reason": "manual_override",
        "engine_limit": 5,
        "engine_reason": "spend_ladder",
        "lifetime_paid_spend_cents": 2000,
        "override": 12,
    }
    assert proxy.delete(path, headers=ADMIN).status_code == 200
    assert proxy.get(path, headers=ADMIN).get_json()["override"] is None
    assert proxy.with_key("GET", "/customers/me/partner-node-concurrency", key).get_json()["limit"] == 5


@pytest.mark.parametrize("proxy", settings(), indirect=True)
def test_overrides_refuse_what_the_spec_does_not_allow(proxy: ProxyClient) -> None:
    proxy.customer("pinned", USD)
    path = "/admin/customers/pinned/partner-node-concurrency-override"
    for body in ({"override": 201}, {"override": -2}, {"override": "5"}, {"override": 5.5}, {"override": None}, {}):
        answer = proxy.put(path, json_body=body, headers=ADMIN)
        assert answer.status_code == 400, (body, answer.get_data(as_text=True))
    assert proxy.put(path, json_body={"override": 3}).status_code == 401  # no secret
    assert proxy.put(path, json_body={"override": 3}, headers={"X-Comfy-Admin-Secret": "nope"}).status_code == 401
    missing = "/admin/customers/nobody/partner-node-concurrency-override"
    assert proxy.put(missing, json_body={"override": 3}, headers=ADMIN).status_code == 404
    assert proxy.get(missing, headers=ADMIN).status_code == 404
    assert proxy.get("/customers/me/partner-node-concurrency").status_code == 401


@pytest.mark.parametrize("proxy", settings(PROXY_LIMIT_LADDER=[[0, 5, 100_000]]), indirect=True)
def test_a_blocked_customer_reaches_no_partner(proxy: ProxyClient) -> None:
    key = proxy.customer("blocked", 5 * USD)
    path = "/admin/customers/blocked/partner-node-concurrency-override"
    assert proxy.put(path, json_body={"override": 0}, headers=ADMIN).status_code == 200
    for call, body in ((KLING, {"prompt": "x"}), (CHEAP, CHEAP_BODY)):
        answer = proxy.with_key("POST", call, key, json_body=body)
        assert answer.status_code == 429, answer.get_data(as_text=True)
        assert answer.get_json()["error"] == "concurrency_limit_exceeded"
        assert answer.headers["X-Concurrency-Limit"] == "0"
    assert not proxy.fakes.received("kling") and not proxy.fakes.received("ideogram")
    assert proxy.available("blocked") == 5 * USD and proxy.held("blocked") == 0


@pytest.mark.parametrize("proxy", settings(PROXY_LIMIT_LADDER=[[0, 2, 100_000]]), indirect=True)
def test_only_the_capped_tier_counts_and_a_model_pin_moves_it(proxy: ProxyClient) -> None:
    key = proxy.customer("mixer", 20 * USD)
    assert [submit(proxy, key)[0] for _ in range(3)] == [200, 200, 429]
    refused = submit(proxy, key)[1]
    assert refused["X-Concurrency-Limit"] == "2" and refused["X-Concurrency-Current"] == "2"
    assert "X-Committed-Spend-Limit" not in refused  # a concurrency refusal carries only its own figures
    assert proxy.with_key("POST", CHEAP, key, json_body=CHEAP_BODY).status_code == 200  # not capped
    model = f"/admin/partner-node-model-overrides/{KLING_MODEL}"
    assert proxy.get(model, headers=ADMIN).get_json() == {
        "model": KLING_MODEL,
        "effective_tier": "expensive",
        "reason": "cost_ladder",
        "cost_cents": 35.0,
        "override": None,
    }
    assert proxy.put(model, json_body={"tier": "cheap"}, headers=ADMIN).status_code == 400
    assert proxy.put(model, json_body={"tier": "exempt"}, headers=ADMIN).status_code == 200
    assert submit(proxy, key)[0] == 200  # exempt: the gate no longer counts it
    listed = {
        m["model"]: m for m in proxy.get("/admin/partner-node-model-overrides", headers=ADMIN).get_json()["models"]
    }
    assert listed[KLING_MODEL]["override"] == "exempt" and listed[KLING_MODEL]["reason"] == "model_override"
    assert listed["ideogram/ideogram-v3/generate"]["effective_tier"] == ""
    assert proxy.delete(model, headers=ADMIN).status_code == 200
    assert proxy.delete(model, headers=ADMIN).status_code == 200  # idempotent
    assert submit(proxy, key)[0] == 429  # capped again, and three are in flight
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", settings(PROXY_LIMIT_LADDER=[[0, 50, 100]]), indirect=True)
def test_committed_spend_counts_the_money_in_flight(proxy: ProxyClient) -> None:
    key = proxy.customer("spender", 20 * USD)
    first, second, third = (submit(proxy, key) for _ in range(3))
    assert first[0] == 200 and first[1]["X-Committed-Spend-Current"] == "35"
    assert second[0] == 200 and second[1]["X-Committed-Spend-Remaining"] == "30"
    assert third[0] == 429
    assert {k: third[1][k] for k in third[1] if k.startswith("X-Committed")} == {
        "X-Committed-Spend-Limit": "100",
        "X-Committed-Spend-Current": "70",
        "X-Committed-Spend-Remaining": "30",
    }
    assert "X-Concurrency-Limit" not in third[1]
    assert proxy.held("spender") == 2 and len(proxy.fakes.received("kling")) == 2
    cheap = proxy.with_key("POST", CHEAP, key, json_body=CHEAP_BODY)  # $0.03 still fits under the ceiling
    assert cheap.status_code == 200 and cheap.headers["X-Committed-Spend-Current"] == "73"
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", settings(PROXY_LIMIT_LADDER=[[0, 3, 100_000]]), indirect=True)
def test_the_concurrency_limit_holds_under_a_race(proxy: ProxyClient, served: str) -> None:
    key = proxy.customer("racer", 50 * USD)

    def one(_: int) -> int:  # each submit leaves a job running, so its hold stays in flight
        with httpx.Client(timeout=60) as http:
            return http.post(f"{served}{KLING}", json={"prompt": "x"}, headers={"X-API-Key": key}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = Counter(pool.map(one, range(30)))
    assert codes == {200: 3, 429: 27}, codes
    assert proxy.held("racer") == 3 and len(proxy.fakes.received("kling")) == 3
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", settings(PROXY_LIMIT_LADDER=[[0, 100, 105]]), indirect=True)
def test_the_committed_spend_ceiling_holds_under_a_race(proxy: ProxyClient, served: str) -> None:
    key = proxy.customer("surge", 50 * USD)

    def one(_: int) -> int:
        with httpx.Client(timeout=60) as http:
            return http.post(f"{served}{KLING}", json={"prompt": "x"}, headers={"X-API-Key": key}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = Counter(pool.map(one, range(30)))
    assert codes == {200: 3, 429: 27}, codes  # 3 x 35 cents = the 105-cent ceiling, not a cent past it
    assert proxy.held("surge") == 3
    proxy.assert_balanced()
