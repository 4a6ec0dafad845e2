"""`Idempotency-Key` as the live spec describes it: a replay answers the recorded answer and charges nothing again;
a different request under the key is refused; a call still in flight is refused with Retry-After; a refusal before
the partner was reached gives the key back."""

from __future__ import annotations

import threading
import time

from tests.proxy.support import ProxyClient

USD = 1_000_000
PATH = "/proxy/ideogram/ideogram-v3/generate"
BODY = {"prompt": "a fox", "rendering_speed": "TURBO"}


def test_the_same_key_replays_the_answer_and_charges_once(proxy: ProxyClient) -> None:
    key = proxy.customer("ida", 10 * USD)
    first = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "k-1"})
    again = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["X-Comfy-Request-Id"] != first.headers["X-Comfy-Request-Id"]
    assert len(proxy.fakes.received("ideogram")) == 1
    assert proxy.available("ida") == 10 * USD - 30_000
    other = proxy.with_key(
        "POST", PATH, key, json_body={**BODY, "prompt": "an owl"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409 and other.get_json()["error"] == "idempotency_mismatch"
    assert len(proxy.fakes.received("ideogram")) == 1


def test_keys_belong_to_their_customer(proxy: ProxyClient) -> None:
    mine = proxy.customer("jon", 10 * USD)
    theirs = proxy.customer("kim", 10 * USD)
    proxy.with_key("POST", PATH, mine, json_body=BODY, headers={"Idempotency-Key": "shared"})
    second = proxy.with_key("POST", PATH, theirs, json_body=BODY, headers={"Idempotency-Key": "shared"})
    assert second.status_code == 200 and "Idempotent-Replayed" not in second.headers
    assert proxy.available("kim") == 10 * USD - 30_000


def test_a_call_in_flight_refuses_its_twin(proxy: ProxyClient) -> None:
    key = proxy.customer("lea", 10 * USD)
    proxy.fakes.fail("ideogram", "hang")  # the partner takes its time on the first call
    answers: list[int] = []
    first = threading.Thread(
        target=lambda: answers.append(
            proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "slow"}).status_code
        )
    )
    first.start()
    deadline = time.monotonic() + 5
    while not proxy.fakes.received("ideogram") and time.monotonic() < deadline:
        time.sleep(0.02)
    twin = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "slow"})
    assert twin.status_code == 409 and twin.get_json()["error"] == "idempotency_in_flight"
    assert twin.headers["X-Comfy-Error-Type"] == "idempotency_in_flight" and int(twin.headers["Retry-After"]) > 0
    first.join(timeout=10)
    assert answers == [200]
    assert len(proxy.fakes.received("ideogram")) == 1


def test_a_refusal_before_the_partner_gives_the_key_back(proxy: ProxyClient) -> None:
    key = proxy.customer("max", 0)
    refused = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "retry-me"})
    assert refused.status_code == 402
    with proxy.container.billing_uow() as uow:
        from shared.ledger.accounts import EntryKind

        uow.ledger.grant("promo:max", EntryKind.PROMOTION, "max", USD)
        uow.commit()
    ran = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "retry-me"})
    assert ran.status_code == 200 and "Idempotent-Replayed" not in ran.headers
    assert proxy.available("max") == USD - 30_000


def test_the_partners_failure_is_recorded_and_replayed_free(proxy: ProxyClient) -> None:
    key = proxy.customer("ned", 10 * USD)
    proxy.fakes.fail("ideogram", "500")
    failed = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "bad-day"})
    again = proxy.with_key("POST", PATH, key, json_body=BODY, headers={"Idempotency-Key": "bad-day"})
    assert failed.status_code == again.status_code == 500
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(proxy.fakes.received("ideogram")) == 1
    assert proxy.available("ned") == 10 * USD and proxy.held("ned") == 0
