"""The Comfy Router (`/v2/models`) through the proxy function, on SQLite and PostgreSQL: the catalog walked by its
opaque cursor, one model's entry and its document (strong ETag, 304), runs validated against the model's schema
before anything is held, a model answered at once and a job collected by polling, charged once; the
`deadline_exceeded` 504 whose same-key retry collects the result; and the Router's error contract throughout."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from werkzeug.test import TestResponse

from functions.proxy.router.models import BY_ID
from tests.proxy.support import ProxyClient

USD = 1_000_000
FAST = {"PROXY_ROUTER_POLL_SECONDS": 0.01, "PROXY_ROUTER_DEADLINE_SECONDS": 5}
IDEOGRAM = "/v2/models/ideogram/ideogram-v3"
FLUX = "/v2/models/bfl/flux-pro-1.1"


def router_error(answer: TestResponse, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.headers["X-Comfy-Error-Type"] == kind and answer.headers.get("X-Comfy-Request-Id")
    body = answer.get_json()
    if status != 422:
        assert body["error_type"] == kind and body["detail"]
    return dict(body)


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_the_catalog_is_walked_by_cursor_to_its_end(proxy: ProxyClient) -> None:
    key = proxy.customer("walker", 0)
    router_error(proxy.get("/v2/models"), 401, "unauthorized")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = proxy.with_key("GET", f"/v2/models{query}", key)
        assert page.status_code == 200 and page.headers["X-Comfy-Request-Id"]
        body = page.get_json()
        assert body["limit"] == 2 and len(body["data"]) <= 2
        seen += [entry["id"] for entry in body["data"]]
        for entry in body["data"]:
            assert entry["id"] == f"{entry['provider']}/{entry['model']}"
            assert entry["billing"] == {"charges_on_policy_rejection": "no"}
        if not body["has_more"]:
            assert "next_cursor" not in body
            break
        cursor = body["next_cursor"]
    assert seen == sorted(BY_ID)
    assert proxy.with_key("GET", "/v2/models?limit=1000", key).get_json()["limit"] == 100  # clamped, and said
    assert proxy.with_key("GET", "/v2/models?limit=0", key).get_json()["limit"] == 20
    router_error(proxy.with_key("GET", "/v2/models?limit=ten", key), 400, "invalid_input")
    router_error(proxy.with_key("GET", "/v2/models?cursor=", key), 400, "invalid_input")
    router_error(proxy.with_key("GET", "/v2/models?cursor=%25%25not-base64", key), 400, "invalid_input")
    stale = base64.urlsafe_b64encode(json.dumps({"c": "another-build", "a": "bfl/x"}).encode()).decode().rstrip("=")
    router_error(proxy.with_key("GET", f"/v2/models?cursor={stale}", key), 400, "invalid_input")


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_one_model_and_its_document(proxy: ProxyClient) -> None:
    key = proxy.customer("reader", 0)
    entry = proxy.with_key("GET", "/v2/models/openai/gpt-image-1", key)
    assert entry.status_code == 200 and entry.get_json()["id"] == "openai/gpt-image-1"
    miss = router_error(proxy.with_key("GET", "/v2/models/openai/gpt-image-l", key), 404, "model_not_found")
    assert "openai/gpt-image-1" in miss["detail"]  # the suggestion
    router_error(proxy.with_key("GET", "/v2/models/Open_AI/x..y", key), 400, "invalid_input")
    doc = proxy.with_key("GET", "/v2/models/openai/gpt-image-1/openapi.json", key)
    tag = doc.headers["ETag"]
    assert doc.status_code == 200 and tag.startswith('"') and not tag.startswith("W/")
    assert doc.headers["Cache-Control"] == "private, max-age=300, must-revalidate"
    body = doc.get_json()
    assert body["x-comfy-router-model-id"] == "openai/gpt-image-1"
    assert body["x-comfy-input-schema-authored"] is True and body["x-comfy-output-schema-authored"] is True
    again = proxy.with_key("GET", "/v2/models/openai/gpt-image-1/openapi.json", key)
    assert again.get_data() == doc.get_data() and again.headers["ETag"] == tag  # the same bytes, the same tag
    for held in (tag, f"W/{tag}", f'"other", {tag}'):
        cached = proxy.with_key(
            "GET", "/v2/models/openai/gpt-image-1/openapi.json", key, headers={"If-None-Match": held}
        )
        assert cached.status_code == 304 and not cached.get_data() and cached.headers["ETag"] == tag
    other = proxy.with_key(
        "GET", "/v2/models/openai/gpt-image-1/openapi.json", key, headers={"If-None-Match": '"other"'}
    )
    assert other.status_code == 200
    open_doc = proxy.with_key("GET", "/v2/models/recraft/recraftv3/openapi.json", key).get_json()
    assert open_doc["x-comfy-input-schema-authored"] is False and open_doc["x-comfy-output-schema-authored"] is False
    responses = open_doc["paths"]["/v2/models/recraft/recraftv3"]["post"]["responses"]
    assert list(responses["200"]["content"]) == ["*/*"]


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_a_run_is_validated_before_anything_is_held(proxy: ProxyClient) -> None:
    key = proxy.customer("validator", USD)
    invalid = proxy.with_key("POST", IDEOGRAM, key, json_body={"rendering_speed": "FAST", "num_images": 0})
    body = router_error(invalid, 422, "invalid_input")
    assert {d["type"] for d in body["detail"]} == {"required", "enum", "minimum"}
    assert all(d["loc"][0] == "body" and d["msg"] for d in body["detail"])
    mismatch = proxy.with_key(
        "POST", "/v2/models/openai/gpt-image-1", key, json_body={"prompt": "x", "model": "dall-e-3"}
    )
    router_error(mismatch, 400, "invalid_input")
    twice = proxy.call(
        "POST",
        IDEOGRAM,
        data=b'{"prompt": "a", "prompt": "b"}',
        headers={"X-API-Key": key, "Content-Type": "application/json"},
    )
    assert "twice" in router_error(twice, 400, "invalid_input")["detail"]
    router_error(proxy.with_key("POST", IDEOGRAM, key, json_body=["a list"]), 400, "invalid_input")
    assert not proxy.fakes.received("ideogram") and not proxy.fakes.received("openai")
    assert proxy.available("validator") == USD and proxy.held("validator") == 0


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_a_model_answered_at_once_returns_its_output_and_replays_under_its_key(proxy: ProxyClient) -> None:
    key = proxy.customer("runner", USD)
    headers = {"Idempotency-Key": "run-1"}
    body = {"prompt": "a fox", "rendering_speed": "TURBO"}
    first = proxy.with_key("POST", IDEOGRAM, key, json_body=body, headers=headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["data"][0]["url"] and first.headers["X-Comfy-Credits-Used"] == "6.33"  # $0.03 x 211
    assert "Idempotent-Replayed" not in first.headers
    again = proxy.with_key("POST", IDEOGRAM, key, json_body=body, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert proxy.available("runner") == USD - 30_000 and len(proxy.fakes.received("ideogram")) == 1
    kling = proxy.with_key("POST", "/v2/models/kling/kling-v2-master", key, json_body={"prompt": "waves"})
    assert kling.status_code == 200, kling.get_data(as_text=True)
    sent = json.loads(proxy.fakes.received("kling")[0].body)
    assert sent["model_name"] == "kling-v2-master"  # the path names the model upstream
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_a_job_is_collected_by_polling_and_charged_once(proxy: ProxyClient) -> None:
    key = proxy.customer("waiter", USD)
    proxy.fakes.state.polls_to_finish = 3
    answer = proxy.with_key("POST", FLUX, key, json_body={"prompt": "an owl", "width": 1024, "height": 768})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    result = answer.get_json()
    assert result["status"] == "Ready" and result["result"]["sample"]
    assert proxy.available("waiter") == USD - 45_000 and len(proxy.charges("waiter")) == 1  # BFL's cost: 4.5 credits
    assert proxy.held("waiter") == 0
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", [{**FAST, "PROXY_ROUTER_DEADLINE_SECONDS": 0.05}], indirect=True)
def test_past_the_deadline_a_same_key_retry_collects_the_result(proxy: ProxyClient) -> None:
    key = proxy.customer("patient", USD)
    proxy.fakes.state.polls_to_finish = 12
    headers = {"Idempotency-Key": "owl-1"}
    body = {"prompt": "an owl"}
    late = proxy.with_key("POST", FLUX, key, json_body=body, headers=headers)
    router_error(late, 504, "deadline_exceeded")
    assert late.headers["Retry-After"] == "1"
    collected = None
    for _ in range(20):  # each retry replays the submit and polls on until the partner is done
        collected = proxy.with_key("POST", FLUX, key, json_body=body, headers=headers)
        if collected.status_code == 200:
            break
        router_error(collected, 504, "deadline_exceeded")
    assert collected is not None and collected.status_code == 200 and collected.get_json()["status"] == "Ready"
    submits = [r for r in proxy.fakes.received("bfl") if r.method == "POST"]
    assert len(submits) == 1  # retries never submitted again
    assert len(proxy.charges("patient")) == 1 and proxy.held("patient") == 0
    unkeyed = proxy.with_key("POST", FLUX, key, json_body=body)
    router_error(unkeyed, 504, "deadline_exceeded")
    assert "Retry-After" not in unkeyed.headers  # nothing a retry could collect
    proxy.assert_balanced()


@pytest.mark.parametrize("proxy", [{**FAST, "PROXY_ROUTER_ENABLED": False}], indirect=True)
def test_a_router_that_is_not_enabled_says_so(proxy: ProxyClient) -> None:
    key = proxy.customer("early", USD)
    router_error(proxy.with_key("GET", "/v2/models", key), 403, "not_enabled")
    router_error(proxy.with_key("POST", IDEOGRAM, key, json_body={"prompt": "x"}), 403, "not_enabled")


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_without_credit_the_run_is_refused_in_the_routers_words(proxy: ProxyClient) -> None:
    key = proxy.customer("broke", 0)
    router_error(proxy.with_key("POST", IDEOGRAM, key, json_body={"prompt": "x"}), 402, "insufficient_credits")
    assert not proxy.fakes.received("ideogram")


BODIES: dict[str, dict[str, Any]] = {  # the least each model's input needs
    "google/gemini-2.5-flash-image": {"contents": [{"role": "user", "parts": [{"text": "a fox"}]}]},
    "runway/gen4-turbo": {"promptText": "a fox", "promptImage": "https://example.com/fox.png", "duration": 5},
}


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
def test_every_model_of_the_catalog_runs_to_its_output_and_is_charged_once(proxy: ProxyClient) -> None:
    key = proxy.customer("everyone", 100 * USD)
    proxy.fakes.state.polls_to_finish = 2
    for model_id in sorted(BY_ID):
        before = proxy.available("everyone")
        body = BODIES.get(model_id, {"prompt": "a fox"})
        answer = proxy.with_key("POST", f"/v2/models/{model_id}", key, json_body=body)
        assert answer.status_code == 200, (model_id, answer.get_data(as_text=True)[:300])
        assert answer.get_json(), model_id
        assert proxy.available("everyone") < before, f"{model_id} was not charged"
    assert len(proxy.charges("everyone")) == len(BY_ID) and proxy.held("everyone") == 0
    proxy.assert_balanced()
