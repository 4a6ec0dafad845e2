"""When partners misbehave the caller pays nothing and gets a clear answer: an HTML error page, a 500, a hang, a
connection dropped mid-answer. Polls are retried (honouring Retry-After), submits never; a failing partner trips
its breaker; per-customer limits answer 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.proxy.support import ProxyClient

USD = 1_000_000
PATH = "/proxy/recraft/image_generation"
BODY = {"prompt": "a fox"}


def test_an_html_error_page_becomes_a_clear_502_and_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("ann", USD)
    proxy.fakes.fail("recraft", "html")
    r = proxy.with_key("POST", PATH, key, json_body=BODY)
    assert r.status_code == 502 and r.get_json()["error"] == "partner_error"
    assert "not charged" in r.get_json()["message"]
    assert proxy.available("ann") == USD and proxy.held("ann") == 0


def test_a_partner_500_is_passed_on_and_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("bob", USD)
    proxy.fakes.fail("recraft", "500")
    r = proxy.with_key("POST", PATH, key, json_body=BODY)
    assert r.status_code == 500 and r.get_json()["error"]["message"] == "upstream exploded"
    assert len(proxy.fakes.received("recraft")) == 1  # a submit is never sent twice
    assert proxy.available("bob") == USD and proxy.held("bob") == 0


@pytest.mark.parametrize("proxy", [{"PROXY_TIMEOUT_CAP_SECONDS": 0.5}], indirect=True)
def test_a_partner_that_hangs_times_out_free(proxy: ProxyClient) -> None:
    key = proxy.customer("cat", USD)
    proxy.fakes.fail("recraft", "hang")
    r = proxy.with_key("POST", PATH, key, json_body=BODY)
    assert r.status_code == 504 and r.get_json()["error"] == "partner_timeout"
    assert proxy.available("cat") == USD and proxy.held("cat") == 0
    proxy.assert_balanced()


def test_a_connection_dropped_mid_answer_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("dan", USD)
    proxy.fakes.fail("recraft", "reset")
    r = proxy.with_key("POST", PATH, key, json_body=BODY)
    assert r.status_code == 502 and r.get_json()["error"] == "partner_error"
    assert proxy.available("dan") == USD and proxy.held("dan") == 0


def test_a_poll_is_retried_after_a_429_and_a_submit_is_not(proxy: ProxyClient) -> None:
    key = proxy.customer("eli", USD)
    proxy.fakes.fail("runway", "429")
    refused = proxy.with_key("POST", "/proxy/runway/image_to_video", key, json_body={"duration": 5})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert proxy.available("eli") == USD
    job = proxy.with_key("POST", "/proxy/runway/image_to_video", key, json_body={"duration": 5}).get_json()["id"]
    proxy.fakes.fail("runway", "429", times=2)
    polled = proxy.with_key("GET", f"/proxy/runway/tasks/{job}", key)
    assert polled.status_code == 200 and polled.get_json()["status"] == "PENDING"
    polls = [r for r in proxy.fakes.received("runway") if r.method == "GET"]
    assert len(polls) == 3  # two 429s, then the answer


@pytest.mark.parametrize("proxy", [{"PROXY_BREAKER_FAILURES": 2, "PROXY_BREAKER_OPEN_SECONDS": 60}], indirect=True)
def test_a_failing_partner_trips_its_breaker(proxy: ProxyClient) -> None:
    key = proxy.customer("fox", USD)
    proxy.fakes.fail("recraft", "500", times=2)
    assert [proxy.with_key("POST", PATH, key, json_body=BODY).status_code for _ in range(2)] == [500, 500]
    open_ = proxy.with_key("POST", PATH, key, json_body=BODY)
    assert open_.status_code == 503 and open_.headers["X-Comfy-Error-Type"] == "service_unavailable"
    assert 0 < int(open_.headers["Retry-After"]) <= 60
    assert len(proxy.fakes.received("recraft")) == 2  # the open circuit kept the third call here
    assert proxy.with_key("POST", "/proxy/ideogram/generate", key, json_body={}).status_code == 200  # others flow
    assert proxy.available("fox") == USD - 80_000 and proxy.held("fox") == 0


@pytest.mark.parametrize("proxy", [{"PROXY_CALLS_PER_MINUTE": 3}], indirect=True)
def test_calls_per_minute_are_limited(proxy: ProxyClient) -> None:
    key = proxy.customer("gil", USD)
    codes = [proxy.with_key("POST", "/proxy/dummy", key, json_body={}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = proxy.with_key("POST", "/proxy/dummy", key, json_body={})
    assert limited.get_json()["error"] == "rate_limited" and 1 <= int(limited.headers["Retry-After"]) <= 60


@pytest.mark.parametrize("proxy", [{"PROXY_MAX_IN_FLIGHT": 1}], indirect=True)
def test_calls_in_flight_are_limited(proxy: ProxyClient) -> None:
    key = proxy.customer("hub", 10 * USD)
    assert proxy.with_key("POST", "/proxy/pika/generate/2.2/t2v", key, json_body={}).status_code == 200
    second = proxy.with_key("POST", "/proxy/pika/generate/2.2/t2v", key, json_body={})
    assert second.status_code == 429 and second.get_json()["error"] == "too_many_in_flight"
    assert "Retry-After" in second.headers
    assert len(proxy.fakes.received("pika")) == 1 and proxy.held("hub") == 1


@pytest.mark.parametrize("proxy", [{"PARTNER_CREDENTIALS": {}}], indirect=True)
def test_a_partner_without_a_credential_is_not_configured(proxy: ProxyClient) -> None:
    key = proxy.customer("ivy", USD)
    r = proxy.with_key("POST", PATH, key, json_body=BODY)
    assert r.status_code == 503 and r.get_json()["error"] == "partner_not_configured"
    assert proxy.fakes.received() == [] and proxy.available("ivy") == USD
