"""The signed and multi-step partners through the gateway against their fakes: each runs to its result and is charged
its price once; the partner's credential (a TC3 signature the fake recomputes, a Google token the fake minted) reaches
the partner and the caller's key does not; another customer's poll, read or PATCH of the job is 404; a failed job
costs nothing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.jobs.settle import follow_due
from local.fake_partners import CREDENTIALS
from local.fake_partners.media import MP4, PNG
from local.fake_partners.signed_steps import tc3_signature
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from tests.proxy.support import ProxyClient

USD = 1_000_000


def _no_caller_key(proxy: ProxyClient, partner: str, key: str) -> None:
    sent = proxy.fakes.received(partner)
    assert sent and all(key not in json.dumps(r.headers) and key.encode() not in r.body for r in sent)


def _not_theirs(response: Any) -> None:
    assert response.status_code == 404 and response.get_json()["error"] == "job_not_found", response.get_data()


def _paid(proxy: ProxyClient, uid: str) -> int:
    """What the customer paid by its one charge (of the 10 USD each starts with), nothing still held."""
    assert proxy.held(uid) == 0 and len(proxy.charges(uid)) == 1
    return 10 * USD - proxy.available(uid)


def _nothing_charged(proxy: ProxyClient, uid: str) -> None:
    assert proxy.charges(uid) == [] and proxy.held(uid) == 0 and proxy.available(uid) == 10 * USD


def test_tencent_signs_every_call_and_charges_a_finished_job_once(proxy: ProxyClient) -> None:
    key, other = proxy.customer("hy", 10 * USD), proxy.customer("hy-peek", 10 * USD)
    body = {"Prompt": "a teapot", "EnablePBR": True}
    submitted = proxy.with_key("POST", "/proxy/tencent/hunyuan/3d-pro", key, json_body=body)
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    job = submitted.get_json()["Response"]["JobId"]
    price = (25 + 10) * 20_000  # Normal, with PBR, at $0.02 a credit
    assert proxy.available("hy") == 10 * USD - price and proxy.held("hy") == 1
    _not_theirs(proxy.with_key("POST", "/proxy/tencent/hunyuan/3d-pro/query", other, json_body={"JobId": job}))
    states = [
        proxy.with_key("POST", "/proxy/tencent/hunyuan/3d-pro/query", key, json_body={"JobId": job}).get_json()
        for _ in range(3)
    ]
    assert [s["Response"]["Status"] for s in states] == ["WAIT", "DONE", "DONE"]
    assert states[1]["Response"]["ResultFile3Ds"][0]["Url"].endswith(".glb")
    assert _paid(proxy, "hy") == price
    sent = proxy.fakes.received("tencent")
    assert [r.headers["X-Tc-Action"] for r in sent] == ["SubmitHunyuanTo3DProJob"] + ["QueryHunyuanTo3DProJob"] * 3
    first = sent[0]
    assert first.path == "" and first.headers["X-Tc-Region"] == "ap-singapore" and json.loads(first.body) == body
    timestamp = first.headers["X-Tc-Timestamp"]
    date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    secret_id, secret_key = CREDENTIALS["tencent"].split(":")
    assert first.headers["Authorization"].startswith(f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/hunyuan/")
    signed = (first.method, "/tencent/", "", first.headers["Content-Type"], first.headers["Host"], first.body)
    signature = tc3_signature(secret_key, signed, timestamp, date, "hunyuan")
    assert first.headers["Authorization"].endswith(f", SignedHeaders=content-type;host, Signature={signature}")
    _no_caller_key(proxy, "tencent", key)
    proxy.assert_balanced()


def test_tencent_failures_cost_nothing_and_a_rate_limit_reaches_the_client_as_a_400(proxy: ProxyClient) -> None:
    key = proxy.customer("hy-fail", 10 * USD)
    uv = {"File": {"Type": "GLB", "Url": "https://example.com/fail.glb"}}
    job = proxy.with_key("POST", "/proxy/tencent/hunyuan/3d-uv", key, json_body=uv).get_json()["Response"]["JobId"]
    states = [
        proxy.with_key("POST", "/proxy/tencent/hunyuan/3d-uv/query", key, json_body={"JobId": job}).get_json()
        for _ in range(2)
    ]
    assert [s["Response"]["Status"] for s in states] == ["WAIT", "FAIL"]
    busy = proxy.with_key("POST", "/proxy/tencent/hunyuan/3d-part", key, json_body={"File": {"Url": "busy"}})
    assert busy.status_code == 400 and "RequestLimitExceeded" in busy.get_json()["Response"]["Error"]["Code"]
    assert [r.headers["X-Tc-Action"] for r in proxy.fakes.received("tencent")][-1] == "SubmitHunyuan3DPartJob"
    _nothing_charged(proxy, "hy-fail")
    proxy.assert_balanced()


def _nano_banana(prompt: str) -> dict[str, Any]:
    """What `comfy generate nano-banana` posts (comfy_cli's Gemini adapter)."""
    return {
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "generationConfig": {"responseModalities": ["IMAGE"]},
    }


def test_gemini_is_metered_by_tokens_with_one_google_token_reused(proxy: ProxyClient) -> None:
    key = proxy.customer("gem", 10 * USD)
    path = "/proxy/vertexai/gemini/gemini-2.5-flash-image"
    first = proxy.with_key("POST", path, key, json_body=_nano_banana("a banana"))
    assert first.status_code == 200, first.get_data(as_text=True)
    # What comfy-cli's decoder saves: every inlineData blob of every candidate.
    blobs = [
        base64.b64decode(part["inlineData"]["data"])
        for candidate in first.get_json()["candidates"]
        for part in candidate["content"]["parts"]
        if "inlineData" in part
    ]
    assert blobs == [PNG]
    # 100 prompt tokens at $0.30/M, 10 text tokens at $2.50/M, 1290 image tokens at $30/M.
    price = (100 * 300_000 + 10 * 2_500_000 + 1290 * 30_000_000) // 1_000_000
    assert _paid(proxy, "gem") == price == 38_755
    imagen = proxy.with_key(
        "POST",
        "/proxy/vertexai/imagen/imagen-3.0-fast-generate-001",
        key,
        json_body={"instances": [{"prompt": "a fox"}], "parameters": {"sampleCount": 2}},
    )
    assert len(imagen.get_json()["predictions"]) == 2
    assert proxy.available("gem") == 10 * USD - 38_755 - 40_000 and len(proxy.charges("gem")) == 2  # 2 x $0.02
    assert len(proxy.fakes.received("google-token")) == 1  # minted once, reused
    sent = proxy.fakes.received("vertexai")
    assert [r.path for r in sent] == [
        "/gemini-2.5-flash-image:generateContent",
        "/imagen-3.0-fast-generate-001:predict",
    ]
    assert sent[0].headers["Authorization"] == sent[1].headers["Authorization"]
    _no_caller_key(proxy, "vertexai", key)
    proxy.assert_balanced()


def _veo_poll(proxy: ProxyClient, key: str, model: str, name: str) -> Any:
    return proxy.with_key("POST", f"/proxy/veo/{model}/poll", key, json_body={"operationName": name})


def test_veo_charges_its_seconds_once_the_video_is_done(proxy: ProxyClient) -> None:
    key, other = proxy.customer("veo", 10 * USD), proxy.customer("veo-peek", 10 * USD)
    model = "veo-3.0-fast-generate-001"
    body = {"instances": [{"prompt": "waves"}], "parameters": {"durationSeconds": 8, "generateAudio": False}}
    name = proxy.with_key("POST", f"/proxy/veo/{model}/generate", key, json_body=body).get_json()["name"]
    assert proxy.available("veo") == 10 * USD - 8 * 100_000  # 8 s at $0.10 without audio
    _not_theirs(_veo_poll(proxy, other, model, name))
    first, done = _veo_poll(proxy, key, model, name).get_json(), _veo_poll(proxy, key, model, name).get_json()
    assert first["done"] is False and done["done"] is True
    assert base64.b64decode(done["response"]["videos"][0]["bytesBase64Encoded"]) == MP4
    assert _paid(proxy, "veo") == 800_000
    assert next(r.path for r in proxy.fakes.received("veo")) == f"/{model}:predictLongRunning"
    _no_caller_key(proxy, "veo", key)
    proxy.assert_balanced()


def test_a_failed_veo_operation_costs_nothing_and_the_follower_polls_its_model(proxy: ProxyClient) -> None:
    key = proxy.customer("veo-bg", 10 * USD)
    model = "veo-3.1-generate-001"
    body = {"instances": [{"prompt": "please fail"}], "parameters": {"durationSeconds": 4}}
    name = proxy.with_key("POST", f"/proxy/veo/{model}/generate", key, json_body=body).get_json()["name"]
    assert proxy.available("veo-bg") == 10 * USD - 4 * 400_000  # with audio (the default)
    gw = gateway_of(proxy.container)
    for _ in range(2):
        with proxy.container.sessions() as s:
            s.execute(update(ProxyJob).values(next_check_at=utcnow() - timedelta(seconds=1)))
            s.commit()
        follow_due(gw)
    polls = [r for r in proxy.fakes.received("veo") if r.path.endswith(":fetchPredictOperation")]
    assert [r.path for r in polls] == [f"/{model}:fetchPredictOperation"] * 2
    assert json.loads(polls[0].body) == {"operationName": name}
    _nothing_charged(proxy, "veo-bg")
    proxy.assert_balanced()


def test_an_interaction_is_metered_by_usage_and_its_files_are_its_owners(proxy: ProxyClient) -> None:
    key, other = proxy.customer("gi", 10 * USD), proxy.customer("gi-peek", 10 * USD)
    body = {"model": "gemini-omni-flash-preview", "input": "a cat dancing"}
    created = proxy.with_key("POST", "/proxy/gemini-interactions", key, json_body=body)
    assert created.status_code == 200 and created.get_json()["status"] == "in_progress"
    interaction = created.get_json()["id"]
    _not_theirs(proxy.with_key("GET", f"/proxy/gemini-interactions/{interaction}", other))
    states = [proxy.with_key("GET", f"/proxy/gemini-interactions/{interaction}", key).get_json() for _ in range(2)]
    assert [s["status"] for s in states] == ["in_progress", "completed"]
    # An unlisted model pays the dearest rates: 1000 input tokens at $2/M, 5000 video tokens at $12/M.
    assert _paid(proxy, "gi") == 1000 * 2 + 5000 * 12
    file_name = states[1]["steps"][0]["content"][0]["uri"].rsplit("/", 1)[-1]
    _not_theirs(proxy.with_key("GET", f"/proxy/gemini-interactions/files/{file_name}", other))
    meta = proxy.with_key("GET", f"/proxy/gemini-interactions/files/{file_name}", key)
    assert meta.status_code == 200 and meta.get_json()["state"] == "ACTIVE"
    raw = proxy.with_key("GET", f"/proxy/gemini-interactions/files/{file_name}:download?alt=media", key)
    assert raw.status_code == 200 and raw.get_data() == MP4
    sent = proxy.fakes.received("gemini-interactions")
    assert sent[0].path == "/interactions" and sent[-1].query == "alt=media"
    assert {r.headers["X-Goog-Api-Key"] for r in sent} == {CREDENTIALS["gemini-interactions"]}
    _no_caller_key(proxy, "gemini-interactions", key)
    proxy.assert_balanced()


def test_topaz_image_is_charged_its_credits(proxy: ProxyClient) -> None:
    key, other = proxy.customer("tz", 10 * USD), proxy.customer("tz-peek", 10 * USD)
    form = b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nReimagine\r\n--b--\r\n'
    headers = {"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=b"}
    submitted = proxy.client.post("/proxy/topaz/image/v1/enhance-gen/async", data=form, headers=headers)
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    process = submitted.get_json()["process_id"]
    assert proxy.available("tz") == 10 * USD - 5 * 80_000 * 3 // 2  # held: 5 credits and half again
    _not_theirs(proxy.with_key("GET", f"/proxy/topaz/image/v1/status/{process}", other))
    _not_theirs(proxy.with_key("GET", f"/proxy/topaz/image/v1/download/{process}", other))
    states = [proxy.with_key("GET", f"/proxy/topaz/image/v1/status/{process}", key).get_json() for _ in range(2)]
    assert [s["status"] for s in states] == ["Pending", "Completed"]
    assert proxy.with_key("GET", f"/proxy/topaz/image/v1/download/{process}", key).get_json()["download_url"]
    assert _paid(proxy, "tz") == 4 * 80_000
    assert proxy.fakes.received("topaz")[0].headers["X-Api-Key"] == CREDENTIALS["topaz"]
    _no_caller_key(proxy, "topaz", key)
    proxy.assert_balanced()


def test_topaz_video_takes_its_steps_owner_only_and_charges_the_estimate(proxy: ProxyClient) -> None:
    key, other = proxy.customer("tzv", 10 * USD), proxy.customer("tzv-peek", 10 * USD)
    source = {"container": "mp4", "size": 1000, "duration": 60, "frameCount": 300, "frameRate": 30}
    body = {"source": {**source, "resolution": {"width": 640, "height": 360}}, "filters": [], "output": {}}
    request_id = proxy.with_key("POST", "/proxy/topaz/video/", key, json_body=body).get_json()["requestId"]
    _not_theirs(proxy.with_key("PATCH", f"/proxy/topaz/video/{request_id}/accept", other))
    accepted = proxy.with_key("PATCH", f"/proxy/topaz/video/{request_id}/accept", key)
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    [url] = accepted.get_json()["urls"]
    put = httpx.put(url, content=MP4)  # straight to the presigned URL, as the client does
    assert put.status_code == 200
    parts = {"uploadResults": [{"partNum": 1, "eTag": put.headers["ETag"].strip('"')}]}
    _not_theirs(proxy.with_key("PATCH", f"/proxy/topaz/video/{request_id}/complete-upload", other, json_body=parts))
    completed = proxy.with_key("PATCH", f"/proxy/topaz/video/{request_id}/complete-upload", key, json_body=parts)
    assert completed.status_code == 202
    states = [proxy.with_key("GET", f"/proxy/topaz/video/{request_id}/status", key).get_json() for _ in range(2)]
    assert [s["status"] for s in states] == ["accepted", "complete"] and states[1]["download"]["url"]
    assert _paid(proxy, "tzv") == 12 * 80_000
    proxy.assert_balanced()


def _rodin_status(proxy: ProxyClient, key: str, subscription: str) -> list[str]:
    answer = proxy.with_key("POST", "/proxy/rodin/api/v2/status", key, json_body={"subscription_key": subscription})
    return [j["status"] for j in answer.get_json()["jobs"]]


def test_rodin_is_done_when_every_sub_job_is_and_its_download_is_the_owners(proxy: ProxyClient) -> None:
    key, other = proxy.customer("ro", 10 * USD), proxy.customer("ro-peek", 10 * USD)
    submitted = proxy.with_key("POST", "/proxy/rodin/api/v2/rodin", key, json_body={"prompt": "a chair"}).get_json()
    task, subscription = submitted["uuid"], submitted["jobs"]["subscription_key"]
    _not_theirs(
        proxy.with_key("POST", "/proxy/rodin/api/v2/status", other, json_body={"subscription_key": subscription})
    )
    assert _rodin_status(proxy, key, subscription) == ["Waiting", "Generating"]
    assert _rodin_status(proxy, key, subscription) == ["Done", "Generating"]
    assert proxy.charges("ro") == [] and proxy.held("ro") == 1  # one sub-job done is not the job done
    assert _rodin_status(proxy, key, subscription) == ["Done", "Done"]
    assert _paid(proxy, "ro") == 400_000
    _not_theirs(proxy.with_key("POST", "/proxy/rodin/api/v2/download", other, json_body={"task_uuid": task}))
    files = proxy.with_key("POST", "/proxy/rodin/api/v2/download", key, json_body={"task_uuid": task}).get_json()
    assert files["list"][0]["url"].endswith(".glb")
    assert {r.headers["Authorization"] for r in proxy.fakes.received("rodin")} == {f"Bearer {CREDENTIALS['rodin']}"}
    _no_caller_key(proxy, "rodin", key)
    failing = proxy.with_key("POST", "/proxy/rodin/api/v2/rodin", other, json_body={"prompt": "fail"}).get_json()
    states = [_rodin_status(proxy, other, failing["jobs"]["subscription_key"]) for _ in range(3)]
    assert states[-1] == ["Done", "Failed"]
    _nothing_charged(proxy, "ro-peek")
    proxy.assert_balanced()


def test_sonilo_streams_its_events_and_settles_when_they_end(proxy: ProxyClient) -> None:
    key = proxy.customer("so", 10 * USD)
    form = b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nsea shanty\r\n--b\r\n'
    form += b'Content-Disposition: form-data; name="duration"\r\n\r\n30\r\n--b--\r\n'
    headers = {"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=b"}
    answer = proxy.client.post("/proxy/sonilo/t2m/generate", data=form, headers=headers)
    assert answer.status_code == 200 and answer.mimetype == "application/x-ndjson"
    events = [json.loads(line) for line in answer.get_data().splitlines()]
    assert [e["type"] for e in events] == ["title", "audio_chunk", "audio_chunk", "audio_chunk", "complete"]
    assert _paid(proxy, "so") == 30 * 5_000  # 30 s at $0.005
    failed = form.replace(b"sea shanty", b"fail please")
    broken = proxy.client.post("/proxy/sonilo/t2m/generate", data=failed, headers=headers)
    assert json.loads(broken.get_data().splitlines()[-1])["type"] == "error"
    assert len(proxy.charges("so")) == 1 and proxy.held("so") == 0  # the failed stream was released
    _no_caller_key(proxy, "sonilo", key)
    proxy.assert_balanced()
