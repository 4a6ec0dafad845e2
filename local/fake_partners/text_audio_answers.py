"""The answers of the text, speech and audio group's fake partners, each in the partner's own shapes (what its real
client parses). A prompt containing "fail" makes a job end failed; one containing "unsafe" is refused by moderation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response

from local.fake_partners import media
from local.fake_partners.answers import Context, Handler, js, not_found

# Audio the fakes answer: distinct bytes, so a test can tell the caller got them exactly.
AUDIO = media.MP3 + bytes(range(256)) * 64

# partner family: stage -> status word
STAGES: dict[str, dict[str, str]] = {
    "xai": {"queued": "pending", "running": "pending", "done": "done", "failed": "failed"},
    "comfy-cloud": {"queued": "queued", "running": "running", "done": "completed", "failed": "failed"},
    "heygen": {"queued": "pending", "running": "processing", "done": "completed", "failed": "failed"},
    "heygen-translation": {"queued": "pending", "running": "running", "done": "completed", "failed": "failed"},
    "synclabs": {"queued": "PENDING", "running": "PROCESSING", "done": "COMPLETED", "failed": "FAILED"},
    "beeble": {"queued": "in_queue", "running": "processing", "done": "completed", "failed": "failed"},
}


def _unsafe(ctx: Context) -> bool:
    return "unsafe" in json.dumps(ctx.fields).lower()


def _n(value: Any, most: int = 10) -> int:
    return max(1, min(int(float(value or 1)), most))


# -- language models --------------------------------------------------------------------------------------------------


def anthropic_messages(ctx: Context) -> Response:
    model = str(ctx.fields.get("model") or "claude-sonnet-4-5")
    if ctx.fields.get("stream") is True:
        return Response(_claude_events(ctx, model), mimetype="text/event-stream")
    return js(
        {
            "id": "msg_fake01",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "hello"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1000, "output_tokens": 500, "cache_read_input_tokens": 2000},
        }
    )


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def _claude_events(ctx: Context, model: str) -> Iterator[bytes]:
    start = {"id": "msg_fake02", "type": "message", "role": "assistant", "model": model, "content": []}
    yield _event("message_start", {"message": {**start, "usage": {"input_tokens": 1000, "output_tokens": 1}}})
    yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    for word in ("hel", "lo"):
        yield _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word}})
    yield _event("content_block_stop", {"index": 0})
    # The current API's message_delta usage is cumulative and carries the input tokens too.
    usage = {"input_tokens": 1000, "output_tokens": 500}
    yield _event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": usage})
    yield _event("message_stop", {})
    ctx.state.streams_finished += 1


def openrouter_chat(ctx: Context) -> Response:
    message = {"role": "assistant", "content": "hello"}
    return js(
        {
            "id": "gen-fake01",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(ctx.fields.get("model") or "openai/gpt-4o"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "system_fingerprint": None,
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150, "cost": 0.0123},
        }
    )


# -- images and SVGs --------------------------------------------------------------------------------------------------


def xai_image(ctx: Context) -> Response:
    if _unsafe(ctx):  # xAI refuses a prompt its moderation blocks with a 400
        return js(
            {"code": "Client specified an invalid argument", "error": "Generated image rejected by moderation."}, 400
        )
    n = _n(ctx.fields.get("n"))
    as_b64 = ctx.fields.get("response_format") == "b64_json"
    images = [{"b64_json": media.b64_png()} if as_b64 else {"url": ctx.file(f"xai-image-{i}", "png")} for i in range(n)]
    data = [{**image, "mime_type": "image/png"} for image in images]
    return js({"data": data, "usage": {"cost_in_usd_ticks": 200_000_000 * n}})  # $0.02 an image


def meta_images(ctx: Context) -> Response:
    if _unsafe(ctx):
        error = {"message": "The request was rejected by the safety system.", "type": "content_policy_violation"}
        return js({"error": error}, 400)
    n = _n(ctx.fields.get("n"))
    as_url = ctx.fields.get("response_format") == "url"
    data = [{"url": ctx.file(f"meta-{i}", "png")} if as_url else {"b64_json": media.b64_png()} for i in range(n)]
    usage = {"input_tokens": 20, "output_tokens": 4000, "total_tokens": 4020}
    return js(
        {"created": int(time.time()), "data": data, "output_format": "png", "background": "opaque", "usage": usage}
    )


def qwen_images(ctx: Context) -> Response:
    parameters = ctx.fields.get("parameters") or {}
    n = _n(parameters.get("n"), 6)
    content = [{"image": ctx.file(f"qwen-{i}", "png")} for i in range(n)]
    choice = {"finish_reason": "stop", "message": {"role": "assistant", "content": content}}
    usage = {"output_image_count": n, "input_image_count": 0, "output_width": 1024, "output_height": 1024}
    return js({"output": {"choices": [choice]}, "usage": usage, "request_id": "qwen-req-1"})


SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle cx="4" cy="4" r="3"/></svg>'


def quiver_svgs(ctx: Context) -> Response:
    n = _n(ctx.fields.get("n"), 16)
    data = [{"svg": SVG, "mime_type": "image/svg+xml"} for _ in range(n)]
    return js({"id": "svg-fake01", "created": int(time.time()), "data": data, "credits": 15 * n})


# -- speech and audio -------------------------------------------------------------------------------------------------


def audio(ctx: Context) -> Response:
    kind = "audio/wav" if str(ctx.request.args.get("output_format", "")).startswith("wav") else "audio/mpeg"
    return Response(AUDIO, mimetype=kind, headers={"request-id": "el-req-1"})


def elevenlabs_transcript(ctx: Context) -> Response:
    words = [
        {"text": "hello", "start": 0.0, "end": 0.5, "type": "word"},
        {"text": " ", "start": 0.5, "end": 0.6, "type": "spacing"},
        {"text": "world", "start": 0.6, "end": 42.3, "type": "word"},
    ]
    body = {"language_code": "eng", "language_probability": 0.98, "text": "hello world", "words": words}
    return js({**body, "transcription_id": "tr-fake01"})


def elevenlabs_voice(ctx: Context) -> Response:
    return js({"voice_id": "voice-fake01", "requires_verification": False})


def elevenlabs_shared(ctx: Context) -> Response:
    voice = {"public_owner_id": "owner-1", "voice_id": "shared-1", "name": "Ada", "category": "professional"}
    return js({"voices": [voice], "has_more": False, "last_sort_id": None})


def fish_transcript(ctx: Context) -> Response:
    segments = [{"text": "hello world", "start": 0.0, "end": 12.5}]
    return js(
        {"text": "hello world", "duration": 12.5, "language": "English", "language_code": "en", "segments": segments}
    )


def fish_model(ctx: Context) -> Response:
    title, visibility = ctx.fields.get("title", "voice"), ctx.fields.get("visibility", "public")
    return js({"_id": "fish-model-1", "title": title, "state": "trained", "visibility": visibility}, 201)


def heygen_avatar(ctx: Context) -> Response:
    return js({"data": {"avatar_group": {"id": "group-1"}, "avatar_item": {"id": "look-1", "status": "processing"}}})


def heygen_look(ctx: Context) -> Response:
    look_id = ctx.path.rsplit("/", 1)[-1]
    look = {"id": look_id, "name": "Look", "status": "completed", "avatar_type": "photo_avatar"}
    return js({"data": {**look, "preview_image_url": ctx.file(look_id, "png"), "supported_api_engines": ["avatar_iv"]}})


def heygen_speech(ctx: Context) -> Response:
    return js({"data": {"audio_url": ctx.file("heygen-speech", "mp3"), "duration": 3.2, "request_id": "hg-1"}})


def beeble_upload(ctx: Context) -> Response:
    name = str(ctx.fields.get("filename") or "source.png")
    return js(
        {"id": "upload_1", "upload_url": f"{ctx.base}/files/upload_1", "beeble_uri": f"beeble://uploads/1/{name}"}
    )


# -- jobs -------------------------------------------------------------------------------------------------------------


def submit(family: str, kind: str, shape: Callable[[Context, str], Response]) -> Handler:
    def handler(ctx: Context) -> Response:
        job = ctx.state.new_job(ctx.partner, kind, ctx.fails, family=family)
        return shape(ctx, job.id)

    return handler


def poll(shape: Callable[[Context, str, str, str], Response], segment: int = -1) -> Handler:
    """`shape(ctx, job id, status word, result url)`; the id is the path's `segment`; a cancelled job stays so."""

    def handler(ctx: Context) -> Response:
        job, stage = ctx.state.poll(ctx.path.rstrip("/").split("/")[segment])
        if job is None:
            return not_found()
        words = STAGES[job.extra["family"]]
        word = (
            "cancelled" if job.extra.get("cancelled") else words["failed" if stage == "done" and job.fails else stage]
        )
        return shape(ctx, job.id, word, ctx.file(job.id, "mp4" if job.kind == "video" else "png"))

    return handler


def xai_submitted(ctx: Context, job_id: str) -> Response:
    ctx.state.jobs[job_id].extra["unsafe"] = _unsafe(ctx)  # its video ends withheld by moderation
    return js({"request_id": job_id})


def xai_video(ctx: Context, job_id: str, word: str, url: str) -> Response:
    if word == "pending":
        return js({"status": "pending"}, 202)
    if word != "done":
        return js({"status": word, "error": {"code": "generation_failed", "message": "the video failed"}})
    moderated = bool(ctx.state.jobs[job_id].extra.get("unsafe"))
    video = {"url": None if moderated else url, "duration": 8, "respect_moderation": not moderated}
    usage = {"cost_in_usd_ticks": 4 * 10**9}  # $0.40: 8 s at $0.05
    return js({"status": "done", "model": "grok-imagine-video", "video": video, "usage": usage})


def comfy_submitted(ctx: Context, job_id: str) -> Response:
    base = f"/proxy/comfy-cloud/workflow/tasks/{job_id}"
    return js({"task_id": job_id, "status": "queued", "polling_url": base, "cancel_url": base + "/cancel"})


def comfy_task(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"task_id": job_id, "status": word, "progress": 100 if word == "completed" else 10}
    if word == "completed":
        body |= {"output_url": url, "output_urls": {"output": url}}
    elif word == "failed":
        body["error"] = "the workflow failed"
    return js(body)


def comfy_cancel(ctx: Context) -> Response:
    job = ctx.state.jobs.get(ctx.path.split("/")[-2])
    if job is None:
        return js({"error": "task_not_found", "message": "No such task."}, 403)
    job.extra["cancelled"] = True
    return js({"task_id": job.id, "status": "cancellation_requested"})


def heygen_video_submitted(ctx: Context, job_id: str) -> Response:
    return js({"data": {"video_id": job_id, "status": "waiting", "output_format": "mp4"}})


def heygen_translation_submitted(ctx: Context, job_id: str) -> Response:
    return js({"data": {"video_translation_ids": [job_id]}})


def heygen_detail(ctx: Context, job_id: str, word: str, url: str) -> Response:
    data: dict[str, Any] = {"id": job_id, "status": word}
    if word == "completed":
        data |= {"video_url": url, "duration": 12.0, "thumbnail_url": ctx.file(job_id, "png")}
    elif word == "failed":
        data |= {"failure_code": "render_failed", "failure_message": "the render failed"}
    return js({"data": data})


def synclabs_submitted(ctx: Context, job_id: str) -> Response:
    return js({"id": job_id, "status": "PENDING", "model": ctx.fields.get("model", "sync-3"), "createdAt": "now"}, 201)


def synclabs_generation(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"id": job_id, "status": word, "model": "sync-3"}
    if word == "COMPLETED":
        body |= {"outputUrl": url, "outputDuration": 7.5}
    elif word == "FAILED":
        body |= {"error": "the lip-sync failed", "errorCode": "generation_failed"}
    return js(body)


def beeble_submitted(ctx: Context, job_id: str) -> Response:
    kind = ctx.fields.get("generation_type", "image")
    return js({"id": job_id, "status": "in_queue", "generation_type": kind, "progress": 0})


def beeble_job(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"id": job_id, "status": word, "progress": 100 if word == "completed" else 40}
    if word == "completed":
        body["output"] = {"render": url, "source": url, "alpha": url}
    elif word == "failed":
        body["error"] = "the composite failed"
    return js(body)
