"""Every job protocol against a partner that misbehaves, on SQLite and PostgreSQL: a 429 with Retry-After (passed on,
with its Retry-After), a 500, an HTML error page, a hang and a connection dropped mid-answer, each on the charged
call; then a job that ends in the partner's own failure (a moderation refusal, a failed or cancelled job). None of
them charges the caller, none leaves credit held, and the ledger stays balanced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.proxy.support import ProxyClient

USD = 1_000_000
FAST = {"PROXY_TIMEOUT_CAP_SECONDS": 0.5, "PROXY_BREAKER_FAILURES": 1_000, "PROXY_POLL_RETRIES": 0}


@dataclass(frozen=True)
class Protocol:
    name: str
    partner: str
    path: str
    body: dict[str, Any]
    poll: str = ""  # a job's poll: `{id}` in the path, or `body:<field>` for a POST poll
    job_id: str = "id"  # the submit answer's dotted path to the job id
    status: str = "status"  # the poll answer's dotted path to the status word


PROTOCOLS = [
    Protocol("sync JSON", "xai", "/proxy/xai/v1/images/generations", {"prompt": "a fox"}),
    Protocol("sync binary", "ltx", "/proxy/ltx/v1/text-to-video", {"prompt": "a fox", "duration": 6}),
    Protocol(
        "submit, GET-poll by path",
        "wan",
        "/proxy/wan/api/v1/services/aigc/video-generation/video-synthesis",
        {"model": "wan2.5-t2v-preview", "input": {"prompt": "waves"}, "parameters": {"duration": 5}},
        poll="/proxy/wan/api/v1/tasks/{id}",
        job_id="output.task_id",
        status="output.task_status",
    ),
    Protocol(
        "submit, POST-poll with a signed body",
        "tencent",
        "/proxy/tencent/hunyuan/3d-pro",
        {"Prompt": "a teapot"},
        poll="body:/proxy/tencent/hunyuan/3d-pro/query:JobId",
        job_id="Response.JobId",
        status="Response.Status",
    ),
    Protocol(
        "submit, absolute polling URL",
        "bfl",
        "/proxy/bfl/flux-pro-1.1/generate",
        {"prompt": "an owl"},
        poll="/proxy/bfl/v1/get_result?id={id}",
    ),
]
MODES = [("429", 429), ("500", 500), ("html", 502), ("hang", 504), ("reset", 502)]


def dig(value: Any, path: str) -> Any:
    for step in path.split("."):
        value = value[step]
    return value


def poll(proxy: ProxyClient, key: str, p: Protocol, job: str) -> Any:
    if p.poll.startswith("body:"):
        path, field = p.poll.removeprefix("body:").rsplit(":", 1)
        return proxy.with_key("POST", path, key, json_body={field: job}).get_json()
    return proxy.with_key("GET", p.poll.replace("{id}", job), key).get_json()


@pytest.mark.parametrize("proxy", [FAST], indirect=True)
@pytest.mark.parametrize("p", PROTOCOLS, ids=[p.name for p in PROTOCOLS])
def test_a_misbehaving_partner_costs_nothing(proxy: ProxyClient, p: Protocol) -> None:
    key = proxy.customer("unlucky", 10 * USD)
    for mode, status in MODES:
        proxy.fakes.fail(p.partner, mode, retry_after=3)
        answer = proxy.with_key("POST", p.path, key, json_body=p.body)
        body = answer.get_data()
        assert answer.status_code == status, (p.name, mode, body[:200])
        if mode == "429":
            assert answer.headers["Retry-After"] == "3"
        if status in (502, 504):
            assert b"not charged" in body
        assert proxy.available("unlucky") == 10 * USD and proxy.held("unlucky") == 0, (p.name, mode)
    if p.poll:  # a job the partner itself ends in failure ("fail" in the prompt: each fake's failed state)
        failing = {**p.body, "prompt": "fail"} if "prompt" in p.body else {**p.body, "Prompt": "fail"}
        if "input" in p.body:
            failing = {**p.body, "input": {"prompt": "fail"}}
        submitted = proxy.with_key("POST", p.path, key, json_body=failing)
        assert submitted.status_code in (200, 201, 202), submitted.get_data(as_text=True)
        job = str(dig(submitted.get_json(), p.job_id))
        for _ in range(4):
            poll(proxy, key, p, job)
        assert proxy.held("unlucky") == 0, p.name
    assert proxy.available("unlucky") == 10 * USD and proxy.charges("unlucky") == []
    proxy.assert_balanced()
