"""The money proofs under concurrency, on SQLite and PostgreSQL, over real HTTP: 200 calls at once against credit
for 50 charge exactly 50 and refuse the rest with 402; 50 polls at once of one finished job settle it once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.proxy.support import ProxyClient

USD = 1_000_000
PRICE = 30_000  # one TURBO image
OPEN_LIMITS = {"PROXY_MAX_IN_FLIGHT": 10_000, "PROXY_CALLS_PER_MINUTE": 10_000}


@pytest.mark.parametrize("proxy", [OPEN_LIMITS], indirect=True)
def test_200_calls_against_credit_for_50_charge_exactly_50(proxy: ProxyClient, served: str) -> None:
    key = proxy.customer("crowd", 50 * PRICE)
    body = {"prompt": "x", "rendering_speed": "TURBO"}

    def one(_: int) -> int:
        with httpx.Client(timeout=60) as http:
            answer = http.post(f"{served}/proxy/ideogram/ideogram-v3/generate", json=body, headers={"X-API-Key": key})
            return answer.status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        codes = Counter(pool.map(one, range(200)))
    assert codes == {200: 50, 402: 150}, codes
    assert proxy.available("crowd") == 0 and proxy.held("crowd") == 0
    assert len(proxy.charges("crowd")) == 50
    assert len(proxy.fakes.received("ideogram")) == 50  # the refused never reached the partner
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", [OPEN_LIMITS], indirect=True)
def test_50_polls_of_one_finished_job_settle_it_once(proxy: ProxyClient, served: str) -> None:
    key = proxy.customer("poller", 10 * USD)
    proxy.fakes.state.polls_to_finish = 1  # the first poll already sees the end
    submitted = proxy.with_key("POST", "/proxy/tripo/v2/openapi/task", key, json_body={"type": "text_to_model"})
    task = submitted.get_json()["data"]["task_id"]

    def one(_: int) -> tuple[int, str | None]:
        with httpx.Client(timeout=60) as http:
            answer = http.get(f"{served}/proxy/tripo/v2/openapi/task/{task}", headers={"X-API-Key": key})
            return answer.status_code, answer.headers.get("X-Comfy-Credits-Used")

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(one, range(50)))
    assert {code for code, _ in results} == {200}
    assert [credits for _, credits in results if credits is not None] == ["42.2"]  # $0.20 x 211, said once
    assert len(proxy.charges("poller")) == 1
    assert proxy.available("poller") == 10 * USD - 200_000 and proxy.held("poller") == 0
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", [{"PROXY_MAX_IN_FLIGHT": 5, "PROXY_CALLS_PER_MINUTE": 10_000}], indirect=True)
def test_the_in_flight_limit_holds_under_a_race(proxy: ProxyClient, served: str) -> None:
    key = proxy.customer("racer", 100 * USD)

    def one(_: int) -> int:  # each submit leaves a job running, so its hold stays in flight
        with httpx.Client(timeout=60) as http:
            answer = http.post(f"{served}/proxy/pika/generate/2.2/t2v", json={}, headers={"X-API-Key": key})
            return answer.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = Counter(pool.map(one, range(40)))
    assert codes == {200: 5, 429: 35}, codes
    assert proxy.held("racer") == 5 and len(proxy.fakes.received("pika")) == 5
    proxy.assert_balanced()
