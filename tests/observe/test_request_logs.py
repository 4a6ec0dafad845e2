"""One structured line per request, through the functions' real entry points: Cloud Logging's fields, the trace from
`traceparent` or `X-Cloud-Trace-Context`, the caller's kind and never a credential, and the request id that the
answer (an error's included) carries."""

from __future__ import annotations

import re
from typing import Any

from shared.auth import emulator
from tests.observe.conftest import Captured
from tests.support import RegistryClient

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
PROJECT = "demo-comfy-registry"


def test_a_read_logs_its_request_in_cloud_loggings_shape(api: RegistryClient, json_log: Captured) -> None:
    r = api.client.get(
        "/nodes?page=1&limit=5",
        headers={"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01", "User-Agent": "ComfyUI-Manager"},
    )
    assert r.status_code == 200
    line = json_log.one_request()
    assert line["severity"] == "INFO"
    assert line["message"].startswith("GET /nodes?page=1&limit=5 200 ")
    http = line["httpRequest"]
    assert http["requestMethod"] == "GET" and http["requestUrl"] == "/nodes?page=1&limit=5"
    assert http["status"] == 200 and http["userAgent"] == "ComfyUI-Manager"
    assert re.fullmatch(r"\d+\.\d{3}s", http["latency"])
    assert http["responseSize"] == str(len(r.get_data()))
    assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
    assert line["logging.googleapis.com/spanId"] == SPAN_ID
    assert line["logging.googleapis.com/trace_sampled"] is True
    assert line["function"] == "registry"
    assert line["caller"] == "anonymous"
    assert line["requestId"] == r.headers["X-Comfy-Request-Id"]


def test_the_trace_of_x_cloud_trace_context(api: RegistryClient, json_log: Captured) -> None:
    api.client.get("/nodes/none-such", headers={"X-Cloud-Trace-Context": f"{TRACE_ID.upper()}/12345;o=0"})
    line = json_log.one_request()
    assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
    assert line["logging.googleapis.com/spanId"] == f"{12345:016x}"
    assert line["logging.googleapis.com/trace_sampled"] is False


def test_traceparent_wins_and_a_malformed_one_is_ignored(api: RegistryClient, json_log: Captured) -> None:
    other = "0af7651916cd43dd8448eb211c80319c"
    api.client.get("/health", headers={"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01", "X-Cloud-Trace-Context": other})
    api.client.get("/health", headers={"traceparent": "00-zz-nothex-01", "X-Cloud-Trace-Context": f"{other}/1"})
    api.client.get("/health", headers={"traceparent": f"00-{'0' * 32}-{SPAN_ID}-01"})
    first, second, third = json_log.requests()
    assert first["logging.googleapis.com/trace"].endswith(TRACE_ID)
    assert second["logging.googleapis.com/trace"].endswith(other)
    assert "logging.googleapis.com/trace" not in third


def test_an_error_answer_carries_the_request_id_of_its_line(api: RegistryClient, json_log: Captured) -> None:
    r = api.client.get("/no/such/route")
    assert r.status_code == 404
    line = json_log.one_request()
    assert line["severity"] == "WARNING" and line["error"] == "not_found"
    assert r.headers["X-Comfy-Request-Id"] == line["requestId"]
    assert len(line["requestId"]) == 32


def test_every_function_answers_a_request_id(api: RegistryClient, json_log: Captured) -> None:
    """Billing and the registry areas set none before; the gateway always did."""
    paths = {
        "billing": "/customers/me",
        "registry-publishing": "/users",
        "registry-moderation": "/admin/nodes",
        "proxy": "/proxy/health",
        "registry-comfy-nodes": "/comfy-nodes",
    }
    for function, path in paths.items():
        r = api.client.get(path)
        line = json_log.requests()[-1]
        assert line["function"] == function, path
        assert r.headers["X-Comfy-Request-Id"] == line["requestId"], path


def test_credentials_and_signed_url_secrets_never_reach_the_log(api: RegistryClient, json_log: Captured) -> None:
    token = api.token("alice")
    key = "comfyui-" + "k" * 40
    secret = "an-admin-secret-value"
    signature = "deadbeef" * 8
    query = f"?page=1&token=tok-in-query&X-Goog-Signature={signature}&X-Goog-Credential=sa%40x&sig=s1g&api_key=k3y"
    api.client.get("/nodes" + query, headers={"Authorization": f"Bearer {token}"})
    api.client.get("/customers/me", headers={"X-API-KEY": key})
    api.client.get("/customers/me", headers={"Authorization": f"Bearer {key}"})
    api.client.post("/admin/customers/x/balance", headers={"X-Comfy-Admin-Secret": secret}, json={})
    pat = "pat-value-in-the-body"
    api.client.post("/publishers/p/nodes/n/versions", json={"personal_access_token": pat})
    text = json_log.text
    for leaked in (token, token.split(".")[1], key, secret, signature, "tok-in-query", "s1g", "k3y", "sa%40x", pat):
        assert leaked not in text
    kinds = [line["caller"] for line in json_log.requests()]
    assert kinds == ["firebase_user", "api_key", "api_key", "admin_secret", "publisher_token"]
    url = json_log.requests()[0]["httpRequest"]["requestUrl"]
    assert url.startswith("/nodes?page=1&token=REDACTED&X-Goog-Signature=REDACTED&")


def test_a_google_oidc_token_is_a_service_account(api: RegistryClient, json_log: Captured) -> None:
    token = emulator.mint("x", "sa", email="sa@x.iam.gserviceaccount.com", name="sa", lifetime=60)
    header, payload, sig = token.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    google = base64.urlsafe_b64encode(json.dumps({**claims, "iss": "https://accounts.google.com"}).encode())
    api.client.get("/security-scan", headers={"Authorization": f"Bearer {header}.{google.decode().rstrip('=')}.{sig}"})
    assert json_log.one_request()["caller"] == "service_account"


def test_an_unhandled_error_is_logged_with_its_traceback_and_request_id(
    api: RegistryClient, json_log: Captured
) -> None:
    class Broken:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("the search index broke")

    api.use(search=Broken())
    r = api.client.get("/nodes/search?search=x")
    assert r.status_code == 500
    lines = json_log.lines()
    request_id = r.headers["X-Comfy-Request-Id"]
    failure = next(line for line in lines if line.get("logger") != "comfy.request" and line["severity"] == "ERROR")
    assert "RuntimeError: the search index broke" in failure["message"]
    assert failure["requestId"] == request_id and failure["function"] == "registry"
    line = json_log.one_request()
    assert line["severity"] == "ERROR" and line["requestId"] == request_id and line["error"] == "internal"
