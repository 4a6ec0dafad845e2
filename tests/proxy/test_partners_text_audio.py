"""The text, speech and audio group through the gateway against its fake partners: each partner run end to end (its
price charged exactly, its own credential sent upstream and the caller's key never), the reported-cost and
per-second rules, refusals and failures free, a job cancelled by its owner only, and audio streamed byte for byte."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.jobs.settle import follow_due
from local.fake_partners import CREDENTIALS
from local.fake_partners.text_audio_answers import AUDIO
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from tests.proxy.support import ProxyClient

USD = 1_000_000


def _partner_saw_only_ours(proxy: ProxyClient, partner: str, key: str, header: str, value: str) -> None:
    """Every request the partner got carried our credential for it, and nothing of the caller's key."""
    received = proxy.fakes.received(partner)
    assert received
    for sent in received:
        named = {name.lower(): given for name, given in sent.headers.items()}
        assert named.get(header.lower()) == value, (partner, sent.path)
        assert key not in json.dumps(sent.headers)


def _make_due(proxy: ProxyClient) -> None:
    """Every job's next background look is due now."""
    with proxy.container.sessions() as s:
        s.execute(update(ProxyJob).values(next_check_at=utcnow() - timedelta(seconds=1)))
        s.commit()


def _bearer(partner: str) -> str:
    return f"Bearer {CREDENTIALS[partner]}"


def _form(**fields: str) -> bytes:
    parts = [f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    audio = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n'
    return ("".join(parts) + audio).encode() + b"ID3 audio\r\n--b--\r\n"


def _post_form(proxy: ProxyClient, path: str, key: str, body: bytes) -> Any:
    headers = {"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=b"}
    return proxy.client.post(path, data=body, headers=headers)


def _poll_to_end(proxy: ProxyClient, path: str, key: str) -> list[Any]:
    return [proxy.with_key("GET", path, key) for _ in range(2)]  # the fakes finish on their second poll


# -- language models --------------------------------------------------------------------------------------------------


def test_anthropic_messages_pay_the_models_tokens(proxy: ProxyClient) -> None:
    key = proxy.customer("claude", 10 * USD)
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": "hi"}]}
    r = proxy.with_key("POST", "/proxy/anthropic/v1/messages", key, json_body=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["content"][0]["text"] == "hello"
    # Sonnet at $3 / $15 per million: 1,000 in, 2,000 read from the cache at a tenth, 500 out.
    assert proxy.available("claude") == 10 * USD - (1000 * 3 + 200 * 3 + 500 * 15)
    _partner_saw_only_ours(proxy, "anthropic", key, "x-api-key", CREDENTIALS["anthropic"])
    assert all(sent.headers["Anthropic-Version"] == "2023-06-01" for sent in proxy.fakes.received("anthropic"))
    proxy.assert_balanced()


def test_an_anthropic_stream_is_relayed_and_pays_its_last_reported_usage(proxy: ProxyClient) -> None:
    key = proxy.customer("stream", 10 * USD)
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    r = proxy.with_key("POST", "/proxy/anthropic/v1/messages", key, json_body=body)
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    text = r.get_data(as_text=True)
    assert text.index("message_start") < text.index("message_delta") < text.index("message_stop")
    # message_delta names no model: its cumulative usage is read at the rates of the model message_start named
    # (Sonnet's $3 / $15 per million tokens), not at the dearest ones.
    assert len(proxy.charges("stream")) == 1 and proxy.held("stream") == 0
    assert proxy.available("stream") == 10 * USD - (1000 * 3 + 500 * 15)
    proxy.assert_balanced()


def test_openrouter_pays_the_cost_openrouter_reports(proxy: ProxyClient) -> None:
    key = proxy.customer("router", 10 * USD)
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    r = proxy.with_key("POST", "/proxy/openrouter/api/v1/chat/completions", key, json_body=body)
    assert r.status_code == 200 and r.get_json()["choices"][0]["message"]["content"] == "hello"
    assert proxy.available("router") == 10 * USD - 12_300  # usage.cost $0.0123
    _partner_saw_only_ours(proxy, "openrouter", key, "Authorization", _bearer("openrouter"))


# -- images and SVGs --------------------------------------------------------------------------------------------------


def test_grok_images_pay_xais_ticks_and_a_moderated_prompt_pays_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("grok", 10 * USD)
    r = proxy.with_key("POST", "/proxy/xai/v1/images/generations", key, json_body={"prompt": "a fox", "n": 2})
    assert r.status_code == 200 and all(d["url"].endswith(".png") for d in r.get_json()["data"])
    assert proxy.available("grok") == 10 * USD - 40_000  # 4e8 ticks = $0.04, under the $0.14 hold
    refused = proxy.with_key("POST", "/proxy/xai/v1/images/edits", key, json_body={"prompt": "unsafe", "image": {}})
    assert refused.status_code == 400 and "moderation" in refused.get_json()["error"]
    assert proxy.available("grok") == 10 * USD - 40_000 and len(proxy.charges("grok")) == 1
    assert proxy.held("grok") == 0
    _partner_saw_only_ours(proxy, "xai", key, "Authorization", _bearer("xai"))
    proxy.assert_balanced()


def test_a_grok_video_answers_202_while_pending_and_pays_its_ticks_when_done(proxy: ProxyClient) -> None:
    key = proxy.customer("grokv", 10 * USD)
    submitted = proxy.with_key("POST", "/proxy/xai/v1/videos/generations", key, json_body={"prompt": "waves"})
    assert submitted.status_code == 200
    request_id = submitted.get_json()["request_id"]
    assert proxy.available("grokv") == 10 * USD - 8 * 70_000  # held: 8 s at $0.07
    pending, done = _poll_to_end(proxy, f"/proxy/xai/v1/videos/{request_id}", key)
    assert pending.status_code == 202 and pending.get_json() == {"status": "pending"}
    assert done.status_code == 200 and done.get_json()["video"]["url"].endswith(".mp4")
    assert proxy.available("grokv") == 10 * USD - 400_000 and proxy.held("grokv") == 0  # the $0.40 reported
    _partner_saw_only_ours(proxy, "xai", key, "Authorization", _bearer("xai"))
    proxy.assert_balanced()


def test_a_grok_video_withheld_by_moderation_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("grokm", 10 * USD)
    submitted = proxy.with_key("POST", "/proxy/xai/v1/videos/edits", key, json_body={"prompt": "unsafe", "video": {}})
    done = _poll_to_end(proxy, f"/proxy/xai/v1/videos/{submitted.get_json()['request_id']}", key)[1]
    assert done.get_json()["status"] == "done" and done.get_json()["video"]["respect_moderation"] is False
    assert proxy.available("grokm") == 10 * USD and proxy.charges("grokm") == [] and proxy.held("grokm") == 0


def test_meta_qwen_and_quiver_images_are_charged_their_price(proxy: ProxyClient) -> None:
    key = proxy.customer("pics", 10 * USD)
    meta = proxy.with_key(
        "POST", "/proxy/meta/v1/images/generations", key, json_body={"model": "muse-image-1.0", "prompt": "x", "n": 2}
    )
    assert meta.status_code == 200 and len(meta.get_json()["data"]) == 2
    assert proxy.available("pics") == 10 * USD - 80_000
    qwen_body = {
        "model": "qwen-image-3.0-pro",
        "input": {"messages": [{"role": "user", "content": [{"text": "a cat"}]}]},
        "parameters": {"n": 2},
    }
    qwen = proxy.with_key(
        "POST", "/proxy/qwen/api/v1/services/aigc/multimodal-generation/generation", key, json_body=qwen_body
    )
    assert qwen.status_code == 200 and qwen.get_json()["output"]["choices"][0]["message"]["content"][1]["image"]
    assert proxy.available("pics") == 10 * USD - 80_000 - 150_000
    svg = proxy.with_key(
        "POST", "/proxy/quiver/v1/svgs/generations", key, json_body={"model": "arrow-1.1", "prompt": "x", "n": 2}
    )
    assert svg.status_code == 200 and svg.get_json()["data"][0]["svg"].startswith("<svg")
    assert proxy.available("pics") == 10 * USD - 80_000 - 150_000 - 300_000  # 30 credits at $0.01
    for partner in ("meta", "qwen", "quiver"):
        _partner_saw_only_ours(proxy, partner, key, "Authorization", _bearer(partner))
    proxy.assert_balanced()


def test_a_meta_moderation_refusal_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("metabad", 10 * USD)
    r = proxy.with_key("POST", "/proxy/meta/v1/images/edits", key, json_body={"model": "m", "prompt": "unsafe"})
    assert r.status_code == 400 and r.get_json()["error"]["type"] == "content_policy_violation"
    assert proxy.available("metabad") == 10 * USD and proxy.charges("metabad") == [] and proxy.held("metabad") == 0


# -- Comfy Cloud ------------------------------------------------------------------------------------------------------


def test_a_comfy_cloud_task_is_charged_when_it_completes(proxy: ProxyClient) -> None:
    key = proxy.customer("cloud", 10 * USD)
    body = {"workflow": "wan-2/text-to-video", "inputs": {"prompt": "x", "duration_seconds": 10}}
    task = proxy.with_key("POST", "/proxy/comfy-cloud/workflow/generate", key, json_body=body).get_json()
    assert task["status"] == "queued" and task["polling_url"].endswith(task["task_id"])
    states = _poll_to_end(proxy, f"/proxy/comfy-cloud/workflow/tasks/{task['task_id']}", key)
    assert [s.get_json()["status"] for s in states] == ["queued", "completed"]
    assert states[1].get_json()["output_url"].endswith(".png")
    assert proxy.available("cloud") == 10 * USD - 200_000  # 10 s at $0.02
    _partner_saw_only_ours(proxy, "comfy-cloud", key, "Authorization", _bearer("comfy-cloud"))
    proxy.assert_balanced()


def test_a_comfy_cloud_task_is_cancelled_by_its_owner_only_and_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("owner", 10 * USD)
    other = proxy.customer("stranger", 10 * USD)
    body = {"workflow": "flux-2/text-to-image", "inputs": {"prompt": "x"}}
    task_id = proxy.with_key("POST", "/proxy/comfy-cloud/workflow/generate", key, json_body=body).get_json()["task_id"]
    sent = len(proxy.fakes.received("comfy-cloud"))
    stolen = proxy.with_key("POST", f"/proxy/comfy-cloud/workflow/tasks/{task_id}/cancel", other, json_body={})
    assert stolen.status_code == 404 and stolen.get_json()["error"] == "job_not_found"
    assert len(proxy.fakes.received("comfy-cloud")) == sent  # never reached Comfy Cloud
    cancel = proxy.with_key("POST", f"/proxy/comfy-cloud/workflow/tasks/{task_id}/cancel", key, json_body={})
    assert cancel.status_code == 200 and cancel.get_json()["status"] == "cancellation_requested"
    assert proxy.held("owner") == 1  # the cancel request settles nothing by itself
    polled = proxy.with_key("GET", f"/proxy/comfy-cloud/workflow/tasks/{task_id}", key)
    assert polled.get_json()["status"] == "cancelled"
    assert proxy.available("owner") == 10 * USD and proxy.charges("owner") == [] and proxy.held("owner") == 0
    proxy.assert_balanced()


# -- speech and audio -------------------------------------------------------------------------------------------------


def test_elevenlabs_speech_streams_the_audio_byte_for_byte_at_its_characters_price(proxy: ProxyClient) -> None:
    key = proxy.customer("voice", 10 * USD)
    r = proxy.client.post(
        "/proxy/elevenlabs/v1/text-to-speech/voice-1?output_format=mp3_44100_128",
        json={"text": "hello world", "model_id": "eleven_multilingual_v2"},
        headers={"X-API-Key": key},
        buffered=False,
    )
    assert r.status_code == 200 and r.mimetype == "audio/mpeg"
    assert r.is_streamed
    assert b"".join(r.response) == AUDIO
    r.close()
    assert r.headers["X-Comfy-Credits-Used"] == "0.557"  # 11 characters at $0.24 per 1,000 = $0.00264, x 211
    assert proxy.available("voice") == 10 * USD - 2_640 and proxy.held("voice") == 0
    [sent] = proxy.fakes.received("elevenlabs")
    assert sent.query == "output_format=mp3_44100_128"
    _partner_saw_only_ours(proxy, "elevenlabs", key, "Xi-Api-Key", CREDENTIALS["elevenlabs"])
    proxy.assert_balanced()


def test_elevenlabs_transcripts_pay_the_transcribed_seconds_and_helpers_are_free(proxy: ProxyClient) -> None:
    key = proxy.customer("scribe", 10 * USD)
    r = _post_form(proxy, "/proxy/elevenlabs/v1/speech-to-text", key, _form(model_id="scribe_v1"))
    assert r.status_code == 200 and r.get_json()["text"] == "hello world"
    assert proxy.available("scribe") == 10 * USD - 43 * 122  # the last word ends at 42.3 s
    voice = _post_form(proxy, "/proxy/elevenlabs/v1/voices/add", key, _form(name="Me"))
    assert voice.status_code == 200 and voice.get_json()["voice_id"]
    shared = proxy.with_key("GET", "/proxy/elevenlabs/v1/shared-voices?page_size=5", key)
    assert shared.status_code == 200 and shared.get_json()["voices"]
    assert len(proxy.charges("scribe")) == 1
    listing = proxy.with_key("GET", "/proxy/elevenlabs/v2/voices", key)  # our account's voices: refused
    assert listing.status_code == 404 and listing.get_json()["error"] == "route_not_found"
    assert not [s for s in proxy.fakes.received("elevenlabs") if s.path == "/v2/voices"]


def test_fish_audio_speech_transcripts_and_voice_models(proxy: ProxyClient) -> None:
    key = proxy.customer("fish", 10 * USD)
    speech = proxy.with_key("POST", "/proxy/fishaudio/v1/tts", key, json_body={"text": "hello", "format": "mp3"})
    assert speech.status_code == 200 and speech.mimetype == "audio/mpeg" and speech.get_data() == AUDIO
    assert proxy.available("fish") == 10 * USD - 75  # 5 characters at $15 per million
    asr = _post_form(proxy, "/proxy/fishaudio/v1/asr", key, _form(language="en"))
    assert asr.status_code == 200 and asr.get_json()["duration"] == 12.5
    assert proxy.available("fish") == 10 * USD - 75 - 13 * 100  # 13 s at $0.36 an hour
    model = _post_form(proxy, "/proxy/fishaudio/model", key, _form(type="tts", title="Me", visibility="private"))
    assert model.status_code == 201 and model.get_json()["visibility"] == "private"
    assert len(proxy.charges("fish")) == 2
    _partner_saw_only_ours(proxy, "fishaudio", key, "Authorization", _bearer("fishaudio"))
    proxy.assert_balanced()


# -- avatars, lip-sync, compositing -----------------------------------------------------------------------------------


def test_a_heygen_video_pays_its_seconds_and_its_helpers_are_free(proxy: ProxyClient) -> None:
    key = proxy.customer("avatar", 10 * USD)
    body = {"type": "avatar", "avatar_id": "look-1", "script": "hello", "voice_id": "v1"}
    video_id = proxy.with_key("POST", "/proxy/heygen/v3/videos", key, json_body=body).get_json()["data"]["video_id"]
    assert proxy.available("avatar") == 10 * USD - 60 * 50_000  # held: a minute
    states = _poll_to_end(proxy, f"/proxy/heygen/v3/videos/{video_id}", key)
    assert [s.get_json()["data"]["status"] for s in states] == ["pending", "completed"]
    assert proxy.available("avatar") == 10 * USD - 12 * 50_000  # the 12 s made, at $0.05
    look = proxy.with_key("GET", "/proxy/heygen/v3/avatars/looks/look-1", key)
    assert look.status_code == 200 and look.get_json()["data"]["status"] == "completed"
    assert len(proxy.charges("avatar")) == 1
    _partner_saw_only_ours(proxy, "heygen", key, "X-Api-Key", CREDENTIALS["heygen"])
    proxy.assert_balanced()


def test_a_heygen_translation_into_several_languages_is_refused_before_heygen(proxy: ProxyClient) -> None:
    key = proxy.customer("dub", 20 * USD)  # the hold is five minutes: $15
    body = {"video": {"type": "url", "url": "https://x/v.mp4"}, "output_languages": ["Spanish", "French"]}
    r = proxy.with_key("POST", "/proxy/heygen/v3/video-translations", key, json_body=body)
    assert r.status_code == 400 and proxy.fakes.received("heygen") == []
    one = proxy.with_key(
        "POST", "/proxy/heygen/v3/video-translations", key, json_body={**body, "output_languages": ["Spanish"]}
    )
    [translation] = one.get_json()["data"]["video_translation_ids"]
    states = _poll_to_end(proxy, f"/proxy/heygen/v3/video-translations/{translation}", key)
    assert [s.get_json()["data"]["status"] for s in states] == ["pending", "completed"]
    assert proxy.available("dub") == 20 * USD - 12 * 50_000 and proxy.held("dub") == 0


def test_a_failed_sync_labs_lipsync_costs_nothing_and_a_finished_one_its_seconds(proxy: ProxyClient) -> None:
    key = proxy.customer("lips", 10 * USD)
    inputs = [{"type": "video", "url": "https://x/v.mp4"}, {"type": "audio", "url": "https://x/a.mp3"}]
    failing = proxy.with_key(
        "POST",
        "/proxy/synclabs/v2/generate",
        key,
        json_body={"model": "sync-3", "input": inputs, "outputFileName": "fail"},
    )
    assert failing.status_code == 201
    states = _poll_to_end(proxy, f"/proxy/synclabs/v2/generate/{failing.get_json()['id']}", key)
    assert states[1].get_json()["status"] == "FAILED"
    assert proxy.available("lips") == 10 * USD and proxy.held("lips") == 0
    ok = proxy.with_key("POST", "/proxy/synclabs/v2/generate", key, json_body={"model": "sync-3", "input": inputs})
    done = _poll_to_end(proxy, f"/proxy/synclabs/v2/generate/{ok.get_json()['id']}", key)[1].get_json()
    assert done["status"] == "COMPLETED" and done["outputUrl"].endswith(".mp4")
    assert proxy.available("lips") == 10 * USD - 8 * 80_000  # 7.5 s made, counted as 8 at $0.08
    _partner_saw_only_ours(proxy, "synclabs", key, "x-api-key", CREDENTIALS["synclabs"])
    proxy.assert_balanced()


def test_a_beeble_composite_followed_in_the_background_is_charged_once(proxy: ProxyClient) -> None:
    key = proxy.customer("beeble", 10 * USD)
    upload = proxy.with_key("POST", "/proxy/beeble/v1/uploads", key, json_body={"filename": "me.png"})
    source = upload.get_json()["beeble_uri"]
    body = {"generation_type": "image", "source_uri": source, "alpha_mode": "auto", "prompt": "a beach"}
    job = proxy.with_key("POST", "/proxy/beeble/v1/switchx/generations", key, json_body=body).get_json()
    assert job["status"] == "in_queue" and proxy.held("beeble") == 1
    gw = gateway_of(proxy.container)
    for _ in range(2):  # nobody polls: proxy-job-settle does
        _make_due(proxy)
        follow_due(gw)
    assert proxy.available("beeble") == 10 * USD - 100_000 and proxy.held("beeble") == 0
    late = proxy.with_key("GET", f"/proxy/beeble/v1/switchx/generations/{job['id']}", key)
    assert late.get_json()["output"]["render"].endswith(".png") and "X-Comfy-Credits-Used" not in late.headers
    assert len(proxy.charges("beeble")) == 1
    _partner_saw_only_ours(proxy, "beeble", key, "Authorization", _bearer("beeble"))
    proxy.assert_balanced()
