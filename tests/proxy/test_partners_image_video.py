"""The image and video partners through the gateway against their fakes: each run charged exactly its price with the
partner's credential sent and the caller's key not, failures and refusals free, jobs only their owner's."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from local.fake_partners import CREDENTIALS
from local.fake_partners.state import Received
from tests.proxy.support import ProxyClient

USD = 1_000_000
FOX = {"prompt": "a red fox"}


def only_ours(sent: list[Received], header: str, partner: str) -> None:
    """Every request reached the partner with its credential under `header`, none with the caller's key."""
    assert sent
    for request in sent:
        names = {name.lower().replace("_", "-"): value for name, value in request.headers.items()}
        value = names.get(header.lower().replace("_", "-"), "")
        assert value.removeprefix("Bearer ") == CREDENTIALS[partner], (partner, request.path)
        assert "X-Api-Key" not in request.headers and "comfyui-" not in str(request.headers)


def run_job(proxy: ProxyClient, key: str, poll: str, field: str, polls: int = 2) -> list[Any]:
    """Poll the job `polls` times; the status word of each answer (`field` is dotted)."""
    words = []
    for _ in range(polls):
        body = proxy.with_key("GET", poll, key).get_json()
        for step in field.split("."):
            body = body[step]
        words.append(body)
    return words


def charged_once(proxy: ProxyClient, uid: str, micros: int, start: int = 10 * USD) -> None:
    """One capture, of `micros` (a capture entry records the whole hold; the balance shows what was taken)."""
    assert len(proxy.charges(uid)) == 1
    assert proxy.available(uid) == start - micros and proxy.held(uid) == 0
    proxy.assert_balanced()


def nothing_charged(proxy: ProxyClient, uid: str, start: int = 10 * USD) -> None:
    assert proxy.charges(uid) == [] and proxy.held(uid) == 0 and proxy.available(uid) == start
    proxy.assert_balanced()


# -- Bria --------------------------------------------------------------------------------------------------------------
def test_bria_edits_are_jobs_polled_by_request_id_and_a_sync_answer_is_settled_at_once(proxy: ProxyClient) -> None:
    key = proxy.customer("bria", 10 * USD)
    submitted = proxy.with_key(
        "POST", "/proxy/bria/v2/image/edit", key, json_body={"images": ["u"], "instruction": "x"}
    )
    assert submitted.status_code == 202 and proxy.held("bria") == 1
    job = submitted.get_json()["request_id"]
    assert run_job(proxy, key, f"/proxy/bria/v2/status/{job}", "status") == ["IN_PROGRESS", "COMPLETED"]
    charged_once(proxy, "bria", 40_000)
    done = proxy.with_key("GET", f"/proxy/bria/v2/status/{job}", key).get_json()
    assert done["result"]["image_url"].endswith(".png")
    sync = proxy.with_key(
        "POST", "/proxy/bria/v2/image/edit/remove_background", key, json_body={"image": "u", "sync": True}
    )
    assert sync.status_code == 200 and sync.headers["X-Comfy-Credits-Used"] == "3.798"  # $0.018 x 211
    assert proxy.available("bria") == 10 * USD - 40_000 - 18_000 and proxy.held("bria") == 0
    only_ours(proxy.fakes.received("bria"), "api_token", "bria")


def test_a_failed_bria_video_job_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("bria2", 10 * USD)
    body = {"video": "https://x/clip.mp4", "background_color": "Transparent", "note": "fail"}
    job = proxy.with_key("POST", "/proxy/bria/v2/video/edit/remove_background", key, json_body=body).get_json()
    assert run_job(proxy, key, f"/proxy/bria/v2/status/{job['request_id']}", "status") == ["IN_PROGRESS", "ERROR"]
    nothing_charged(proxy, "bria2")


# -- BytePlus ----------------------------------------------------------------------------------------------------------
def test_seedream_images_are_paid_by_the_images_made(proxy: ProxyClient) -> None:
    key = proxy.customer("dream", 10 * USD)
    body = {
        "model": "seedream-4-5-251128",
        "prompt": "a fox",
        "sequential_image_generation": "auto",
        "sequential_image_generation_options": {"max_images": 5},
    }
    r = proxy.with_key("POST", "/proxy/byteplus/api/v3/images/generations", key, json_body=body)
    assert r.status_code == 200 and len(r.get_json()["data"]) == 3
    charged_once(proxy, "dream", 3 * 40_000)  # five held at $0.04, three made
    only_ours(proxy.fakes.received("byteplus"), "Authorization", "byteplus")


def test_comfy_generate_seedance_is_priced_by_its_inline_settings_and_polled(proxy: ProxyClient) -> None:
    key = proxy.customer("sd", 10 * USD)
    text = "a fox in snow --resolution 720p --ratio 16:9 --duration 10"
    body = {"model": "seedance-1-0-pro-250528", "content": [{"type": "text", "text": text}]}
    submitted = proxy.with_key("POST", "/proxy/byteplus/api/v3/contents/generations/tasks", key, json_body=body)
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    task = submitted.get_json()["id"]
    poll = f"/proxy/byteplus/api/v3/contents/generations/tasks/{task}"
    assert run_job(proxy, key, poll, "status") == ["queued", "succeeded"]
    assert proxy.with_key("GET", poll, key).get_json()["content"]["video_url"].endswith(".mp4")
    charged_once(proxy, "sd", 10 * 56_000)  # 10 s of 1.0 pro at 720p, $0.056 a second
    only_ours(proxy.fakes.received("byteplus"), "Authorization", "byteplus")


def test_seedance_2_is_polled_at_its_own_path_only_by_its_owner_and_a_failed_task_costs_nothing(
    proxy: ProxyClient,
) -> None:
    key = proxy.customer("sd2", 10 * USD)
    stranger = proxy.customer("sd2-stranger", 10 * USD)
    body = {"model": "dreamina-seedance-2-0-260128", "content": [{"type": "text", "text": "fail"}], "duration": 4}
    task = proxy.with_key("POST", "/proxy/byteplus/api/v3/contents/generations/tasks", key, json_body=body)
    task_id = task.get_json()["id"]
    # ComfyUI's Seedance 2.0 nodes submit at `byteplus` and poll at `byteplus-seedance2`: the owner's poll finds
    # the `byteplus` job; anyone else's reaches no partner.
    poll = f"/proxy/byteplus-seedance2/api/v3/contents/generations/tasks/{task_id}"
    sent = len(proxy.fakes.received())
    other = proxy.with_key("GET", poll, stranger)
    assert other.status_code == 404 and other.get_json()["error"] == "job_not_found"
    assert len(proxy.fakes.received()) == sent
    assert run_job(proxy, key, poll, "status") == ["queued", "failed"]
    only_ours(proxy.fakes.received("byteplus-seedance2"), "Authorization", "byteplus-seedance2")
    nothing_charged(proxy, "sd2")


def test_a_rate_limited_or_broken_seedance_submit_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("sd3", 10 * USD)
    body = {"model": "seedance-1-5-pro-251215", "content": [{"type": "text", "text": "x"}], "duration": 5}
    proxy.fakes.fail("byteplus", "429", retry_after=7)
    limited = proxy.with_key("POST", "/proxy/byteplus/api/v3/contents/generations/tasks", key, json_body=body)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    proxy.fakes.fail("byteplus", "html")
    broken = proxy.with_key("POST", "/proxy/byteplus/api/v3/contents/generations/tasks", key, json_body=body)
    assert broken.status_code == 502 and broken.get_json()["error"] == "partner_error"
    assert len(proxy.fakes.received("byteplus")) == 2  # each sent once, never blindly again
    nothing_charged(proxy, "sd3")


def test_a_byteplus_file_is_its_uploaders_and_responses_pay_their_tokens(proxy: ProxyClient) -> None:
    key = proxy.customer("files", 10 * USD)
    other = proxy.customer("peek", 10 * USD)
    form = b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n--b--\r\n'
    headers = {"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=b"}
    uploaded = proxy.client.post("/proxy/byteplus/api/v3/files", data=form, headers=headers)
    assert uploaded.status_code == 200, uploaded.get_data(as_text=True)
    file_id = uploaded.get_json()["id"]
    stranger = proxy.with_key("GET", f"/proxy/byteplus/api/v3/files/{file_id}", other)
    assert stranger.status_code == 404 and stranger.get_json()["error"] == "job_not_found"
    assert run_job(proxy, key, f"/proxy/byteplus/api/v3/files/{file_id}", "status") == ["processing", "active"]
    r = proxy.with_key("POST", "/proxy/byteplus/api/v3/responses", key, json_body={"model": "seed-1-6", "input": "hi"})
    assert r.status_code == 200 and r.get_json()["output"][0]["content"][0]["text"] == "a red fox"
    assert r.headers["X-Comfy-Credits-Used"] == "0.5064"  # 1200 x $1 / M + 300 x $4 / M = $0.0024
    assert len(proxy.charges("files")) == 2 and proxy.available("files") == 10 * USD - 1_000 - 2_400
    tts = proxy.with_key("POST", "/proxy/byteplus/api/v3/tts/create", key, json_body={"text_prompt": "hi"})
    assert tts.status_code == 404 and tts.get_json()["error"] == "route_not_found"


def test_mediakit_pays_the_seconds_of_video_it_made(proxy: ProxyClient) -> None:
    key = proxy.customer("kit", 10 * USD)
    task = proxy.with_key(
        "POST", "/proxy/byteplusmediakit/api/v1/tools/enhance-video", key, json_body={"video_url": "https://x/v.mp4"}
    ).get_json()["task_id"]
    assert run_job(proxy, key, f"/proxy/byteplusmediakit/api/v1/tasks/{task}", "status") == ["pending", "completed"]
    failed = proxy.with_key(
        "POST", "/proxy/byteplusmediakit/api/v1/tools/enhance-video", key, json_body={"video_url": "fail"}
    ).get_json()["task_id"]
    assert run_job(proxy, key, f"/proxy/byteplusmediakit/api/v1/tasks/{failed}", "status")[-1] == "failed"
    charged_once(proxy, "kit", 13 * 20_000)  # 12.4 s of output, as 13 s at $0.02; the failed one nothing
    only_ours(proxy.fakes.received("byteplusmediakit"), "Authorization", "byteplusmediakit")


# -- Seedance helpers --------------------------------------------------------------------------------------------------
def test_seedance_assets_are_read_only_by_their_creator_and_account_lists_are_refused(proxy: ProxyClient) -> None:
    key = proxy.customer("asset", 10 * USD)
    other = proxy.customer("snoop", 10 * USD)
    for method, path in (("GET", "/assets"), ("GET", "/visual-validate/groups"), ("POST", "/assets")):
        refused = proxy.with_key(method, f"/proxy/seedance{path}", other, json_body={} if method == "POST" else None)
        assert refused.status_code == 404 and refused.get_json()["error"] == "route_not_found", path
    created = proxy.with_key(
        "POST", "/proxy/seedance/virtual-library/assets", key, json_body={"url": "https://x/a.png"}
    )
    assert created.status_code == 201
    asset = created.get_json()["asset_id"]
    stranger = proxy.with_key("GET", f"/proxy/seedance/assets/{asset}", other)
    assert stranger.status_code == 404 and stranger.get_json()["error"] == "job_not_found"
    assert run_job(proxy, key, f"/proxy/seedance/assets/{asset}", "status") == ["Processing", "Active"]
    session = proxy.with_key("POST", "/proxy/seedance/visual-validate/sessions", key, json_body={"name": "fail"})
    session_id = session.get_json()["session_id"]
    states = run_job(proxy, key, f"/proxy/seedance/visual-validate/sessions/{session_id}", "status")
    assert states == ["pending", "failed"]
    charged_once(proxy, "asset", 10_000)  # the asset; the failed session is released
    only_ours(proxy.fakes.received("seedance"), "Authorization", "seedance")


# -- Freepik, Krea -----------------------------------------------------------------------------------------------------
def test_freepik_skin_enhancer_modes_poll_one_path_and_a_failed_upscale_is_free(proxy: ProxyClient) -> None:
    key = proxy.customer("fp", 10 * USD)
    task = proxy.with_key(
        "POST", "/proxy/freepik/v1/ai/skin-enhancer/faithful", key, json_body={"image": "https://x/a.png"}
    ).get_json()["data"]["task_id"]
    poll = f"/proxy/freepik/v1/ai/skin-enhancer/{task}"
    assert run_job(proxy, key, poll, "data.status") == ["CREATED", "COMPLETED"]
    charged_once(proxy, "fp", 370_000)
    styled = proxy.with_key("POST", "/proxy/freepik/v1/ai/image-style-transfer", key, json_body={"image": "a"})
    assert proxy.held("fp") == 1 and styled.get_json()["status"] == "CREATED"
    failed = proxy.with_key(
        "POST", "/proxy/freepik/v1/ai/image-upscaler", key, json_body={"image": "fail", "scale_factor": "4x"}
    ).get_json()["data"]["task_id"]
    assert run_job(proxy, key, f"/proxy/freepik/v1/ai/image-upscaler/{failed}", "data.status")[-1] == "FAILED"
    assert proxy.available("fp") == 10 * USD - 370_000 - 110_000  # the style transfer still held
    only_ours(proxy.fakes.received("freepik"), "x-freepik-api-key", "freepik")


def test_krea_prices_a_moodboard_and_uploads_for_free(proxy: ProxyClient) -> None:
    key = proxy.customer("krea", 10 * USD)
    body = {**FOX, "moodboards": [{"id": "0b7d1b5e-8a53-4bb4-9d35-5e3b7c9b1f00"}]}
    job = proxy.with_key("POST", "/proxy/krea/generate/image/krea/krea-2/medium", key, json_body=body)
    job_id = job.get_json()["job_id"]
    assert run_job(proxy, key, f"/proxy/krea/jobs/{job_id}", "status") == ["queued", "completed"]
    assert proxy.with_key("GET", f"/proxy/krea/jobs/{job_id}", key).get_json()["result"]["urls"][0].endswith(".png")
    form = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nPNG\r\n--b--\r\n'
    headers = {"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=b"}
    asset = proxy.client.post("/proxy/krea/assets", data=form, headers=headers)
    assert asset.status_code == 200 and asset.get_json()["image_url"].endswith(".png")
    failed = proxy.with_key("POST", "/proxy/krea/generate/image/krea/krea-2/large", key, json_body={"prompt": "fail"})
    assert run_job(proxy, key, f"/proxy/krea/jobs/{failed.get_json()['job_id']}", "status")[-1] == "failed"
    charged_once(proxy, "krea", 40_000)  # the moodboard image; the upload and the failed job nothing
    only_ours(proxy.fakes.received("krea"), "Authorization", "krea")


# -- LTX, Luma Agents, Reve --------------------------------------------------------------------------------------------
def streamed(r: TestResponse) -> bytes:
    """A streamed answer's bytes, read to the end (which settles the call)."""
    data = r.get_data()
    r.close()
    return data


def test_ltx_v1_streams_the_mp4_and_charges_by_model_resolution_and_seconds(proxy: ProxyClient) -> None:
    key = proxy.customer("ltx", 10 * USD)
    body = {**FOX, "model": "ltx-2-5-pro", "duration": 6, "resolution": "2560x1440"}
    r = proxy.with_key("POST", "/proxy/ltx/v1/text-to-video", key, json_body=body)
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
    assert r.headers["x-request-id"] == "ltx-req-1" and r.headers["X-Comfy-Credits-Used"] == "151.92"  # $0.72
    assert streamed(r).startswith(b"\x00\x00\x00\x18ftyp")
    refused = proxy.with_key("POST", "/proxy/ltx/v1/image-to-video", key, json_body={**body, "prompt": "fail"})
    assert refused.status_code == 400
    charged_once(proxy, "ltx", 6 * 120_000)
    only_ours(proxy.fakes.received("ltx"), "Authorization", "ltx")


def test_ltx_v2_is_a_job(proxy: ProxyClient) -> None:
    key = proxy.customer("ltx2", 10 * USD)
    body = {**FOX, "model": "ltx-2-5-fast", "duration": 10, "resolution": "1920x1080"}
    job = proxy.with_key("POST", "/proxy/ltx/v2/image-to-video", key, json_body=body)
    assert job.status_code == 202
    assert run_job(proxy, key, f"/proxy/ltx/v2/image-to-video/{job.get_json()['id']}", "status")[-1] == "completed"
    charged_once(proxy, "ltx2", 10 * 40_000)


def test_luma_agents_price_video_by_resolution_and_seconds(proxy: ProxyClient) -> None:
    key = proxy.customer("luma2", 10 * USD)
    body = {**FOX, "type": "video", "video": {"duration": "10s", "resolution": "1080p"}}
    gen = proxy.with_key("POST", "/proxy/luma_2/generations", key, json_body=body).get_json()["id"]
    assert run_job(proxy, key, f"/proxy/luma_2/generations/{gen}", "state") == ["queued", "completed"]
    image = proxy.with_key("POST", "/proxy/luma_2/generations", key, json_body={"prompt": "fail", "type": "image"})
    failed = run_job(proxy, key, f"/proxy/luma_2/generations/{image.get_json()['id']}", "state")
    assert failed == ["queued", "failed"]
    charged_once(proxy, "luma2", 10 * 640_000)
    only_ours(proxy.fakes.received("luma_2"), "Authorization", "luma_2")


def test_reve_answers_image_bytes_with_its_headers_and_pays_the_credits_it_reports(proxy: ProxyClient) -> None:
    key = proxy.customer("reve", 10 * USD)
    r = proxy.with_key("POST", "/proxy/reve/v1/image/create", key, json_body=FOX, headers={"Accept": "image/webp"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/webp"
    assert r.headers["x-reve-credits-used"] == "18" and r.headers["x-reve-content-violation"] == "false"
    assert "Set-Cookie" not in r.headers
    assert streamed(r).startswith(b"\x89PNG")
    edit = proxy.with_key(
        "POST",
        "/proxy/reve/v1/image/edit",
        key,
        json_body={"edit_instruction": "x"},
        headers={"Accept": "application/json"},
    )
    assert edit.status_code == 200 and edit.get_json()["credits_used"] == 18
    rejected = proxy.with_key("POST", "/proxy/reve/v1/image/remix", key, json_body={"prompt": "fail"})
    assert rejected.status_code == 400 and rejected.headers["x-reve-error-code"] == "PROMPT_REJECTED"
    assert edit.headers["X-Comfy-Credits-Used"] == "7.2413"  # 18 credits at 524.48 a dollar: $0.034319
    assert len(proxy.charges("reve")) == 2 and proxy.held("reve") == 0
    assert proxy.available("reve") == 10 * USD - 2 * 34_319
    only_ours(proxy.fakes.received("reve"), "Authorization", "reve")
