"""The image and video partners' answers (see `image_video` for their routes), each in the partner's own shapes and
job protocol, so that ComfyUI's nodes would parse them. A request mentioning "fail" makes a job end failed (or a
synchronous call be refused)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Response

from local.fake_partners import media
from local.fake_partners.answers import Context, Handler, js

# family: stage -> status word ("failed" is the failed terminal word)
STAGES: dict[str, dict[str, str]] = {
    "bria": {"queued": "IN_PROGRESS", "running": "IN_PROGRESS", "done": "COMPLETED", "failed": "ERROR"},
    "byteplus": {"queued": "queued", "running": "running", "done": "succeeded", "failed": "failed"},
    "byteplus-file": {"queued": "processing", "running": "processing", "done": "active", "failed": "failed"},
    "mediakit": {"queued": "pending", "running": "processing", "done": "completed", "failed": "failed"},
    "session": {"queued": "pending", "running": "pending", "done": "completed", "failed": "failed"},
    "asset": {"queued": "Processing", "running": "Processing", "done": "Active", "failed": "Failed"},
    "freepik": {"queued": "CREATED", "running": "IN_PROGRESS", "done": "COMPLETED", "failed": "FAILED"},
    "krea": {"queued": "queued", "running": "processing", "done": "completed", "failed": "failed"},
    "ltx": {"queued": "queued", "running": "processing", "done": "completed", "failed": "failed"},
    "luma_2": {"queued": "queued", "running": "processing", "done": "completed", "failed": "failed"},
}
Shape = Callable[[Context, str], Response]
PollShape = Callable[[Context, str, str, str], Response]  # ctx, job id, status word, result URL


def submit(family: str, kind: str, shape: Shape) -> Handler:
    def handler(ctx: Context) -> Response:
        job = ctx.state.new_job(ctx.partner, kind, ctx.fails, family=family)
        return shape(ctx, job.id)

    return handler


def poll(shape: PollShape, missing: Callable[[], Response] | None = None) -> Handler:
    """The job named by the path's last segment, one stage further; its family's word; a result URL of its kind."""

    def handler(ctx: Context) -> Response:
        job, stage = ctx.state.poll(ctx.path.rstrip("/").rsplit("/", 1)[-1])
        words = STAGES.get(str(job.extra.get("family"))) if job else None
        if job is None or words is None:
            return missing() if missing else js({"error": {"code": "NotFound", "message": "no such task"}}, 404)
        word = words["failed" if stage == "done" and job.fails else stage]
        extension = {"video": "mp4", "image": "png"}.get(job.kind, "png")
        return shape(ctx, job.id, word, ctx.file(job.id, extension) if word == words["done"] else "")

    return handler


# -- Bria ------------------------------------------------------------------------------------------------------------
def bria_submit(kind: str) -> Handler:
    def handler(ctx: Context) -> Response:
        job = ctx.state.new_job("bria", kind, ctx.fails, family="bria")
        if ctx.fields.get("sync") is True and not ctx.fails:  # held open until done: the result itself
            return js({"request_id": job.id, "result": {"image_url": ctx.file(job.id, "png"), "seed": 7}})
        status_url = f"{ctx.base}/bria/v2/status/{job.id}"
        return js({"request_id": job.id, "status_url": status_url}, 202)

    return handler


def bria_status(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"request_id": job_id, "status": word}
    if word == "ERROR":
        body["error"] = {"code": 422, "message": "content moderation", "details": "fail"}
    elif url:
        job = ctx.state.jobs[job_id]
        if job.kind == "text":
            body["result"] = {"structured_prompt": '{"edit": "make the sky blue"}'}
        else:
            body["result"] = {f"{job.kind}_url": url, "seed": 7}
    return js(body)


def bria_missing() -> Response:
    return js({"request_id": "", "status": "NOT_FOUND", "error": {"code": 404, "message": "not found"}}, 404)


# -- BytePlus ModelArk -----------------------------------------------------------------------------------------------
def seedream(ctx: Context) -> Response:
    fields = ctx.fields
    count = 1
    if fields.get("sequential_image_generation") == "auto":  # the fake makes at most 3 of the images allowed
        options = fields.get("sequential_image_generation_options") or {}
        count = max(1, min(int(options.get("max_images", 15)), 3))
    data = [{"url": ctx.file(f"seedream-{i}", "png"), "size": "2048x2048"} for i in range(count)]
    usage = {"generated_images": count, "output_tokens": 16384 * count, "total_tokens": 16384 * count}
    return js(
        {"model": fields.get("model", "seedream-4-0-250828"), "created": int(time.time()), "data": data, "usage": usage}
    )


def task_created(ctx: Context, job_id: str) -> Response:
    return js({"id": job_id})


def task_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"id": job_id, "model": "seedance-1-0-pro-250528", "status": word, "created_at": 1}
    if url:
        body |= {"content": {"video_url": url}, "duration": 5, "resolution": "1080p", "usage": {"total_tokens": 9}}
    if word == "failed":
        body["error"] = {"code": "OutputVideoSensitiveContentDetected", "message": "the output was refused"}
    return js(body)


def file_created(ctx: Context, job_id: str) -> Response:
    return js({"id": job_id, "object": "file", "purpose": "user_data", "status": "processing", "bytes": 2048})


def file_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    return js({"id": job_id, "object": "file", "purpose": "user_data", "status": word, "mime_type": "video/mp4"})


def responses(ctx: Context) -> Response:
    output = [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a red fox"}]}]
    usage = {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500}
    return js({"id": "resp-byteplus-1", "object": "response", "status": "completed", "output": output, "usage": usage})


def mediakit_created(ctx: Context, job_id: str) -> Response:
    return js({"request_id": "req-1", "success": True, "task_id": job_id})


def mediakit_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {
        "task_id": job_id,
        "task_type": "enhance-video",
        "status": word,
        "success": word != "failed",
    }
    if url:
        body["result"] = {"video_url": url, "duration": 12.4, "fps": 30, "resolution": "1080p"}
    return js(body)


# -- Seedance helpers ------------------------------------------------------------------------------------------------
def session_created(ctx: Context, job_id: str) -> Response:
    return js({"session_id": job_id, "h5_link": f"https://verify.example/h5/{job_id}"}, 201)


def session_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body = {"session_id": job_id, "name": "me", "status": word}
    return js(body | ({"group_id": f"group-{job_id}"} if word == "completed" else {}))


def asset_created(ctx: Context, job_id: str) -> Response:
    return js({"asset_id": job_id}, 201)


def asset_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    return js({"id": job_id, "asset_type": "Image", "status": word, "url": url or None, "group_id": "virtual"})


# -- Freepik, Krea, LTX, Luma Agents ---------------------------------------------------------------------------------
def freepik_created(ctx: Context, job_id: str) -> Response:
    task = {"task_id": job_id, "status": "CREATED", "generated": []}
    return js(task if ctx.path.endswith("image-style-transfer") else {"data": task})


def freepik_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    return js({"data": {"task_id": job_id, "status": word, "generated": [url] if url else []}})


def krea_created(ctx: Context, job_id: str) -> Response:
    return js({"job_id": job_id, "status": "queued", "created_at": "2026-12-04T00:00:00Z", "result": None})


def krea_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    return js({"job_id": job_id, "status": word, "result": {"urls": [url]} if url else None})


def krea_asset(ctx: Context) -> Response:
    upload = ctx.request.files.get("file")
    if upload is None:
        return js({"error": "file is required"}, 400)
    return js({"id": "asset-1", "image_url": ctx.file("krea-asset", "png"), "mime_type": upload.mimetype})


def ltx_video(ctx: Context) -> Response:
    if ctx.fails:
        return js({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt refused"}}, 400)
    return Response(media.MP4 * 256, mimetype="video/mp4", headers={"x-request-id": "ltx-req-1"})


def ltx_created(ctx: Context, job_id: str) -> Response:
    return js({"id": job_id, "created_at": "2026-12-04T00:00:00Z"}, 202)


def ltx_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"id": job_id, "status": word}
    if url:
        body["result"] = {"video_url": url}
    if word == "failed":
        body["error"] = {"type": "generation_error", "message": "failed"}
    return js(body)


def luma_created(ctx: Context, job_id: str) -> Response:
    kind = ctx.fields.get("type", "image")
    return js({"id": job_id, "state": "queued", "type": kind, "model": ctx.fields.get("model", "uni-1")})


def luma_state(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"id": job_id, "state": word, "output": [{"type": "image", "url": url}] if url else []}
    return js(body | ({"failure_reason": "moderated"} if word == "failed" else {}))


# -- Reve ------------------------------------------------------------------------------------------------------------
REVE_CREDITS = 18  # what each fake call reports it used (ComfyUI's create badge: 18 / 524.48 = $0.03432)


def reve(ctx: Context) -> Response:
    if ctx.fails:
        headers = {"x-reve-error-code": "PROMPT_REJECTED", "x-reve-request-id": "rv-bad"}
        return js({"error_code": "PROMPT_REJECTED", "message": "The prompt was rejected."}, 400, headers)
    headers = {
        "x-reve-credits-used": str(REVE_CREDITS),
        "x-reve-credits-remaining": "9000",
        "x-reve-request-id": "rv-1",
        "x-reve-version": "reve-create@20250915",
        "x-reve-content-violation": "false",
        "Set-Cookie": "reve-session=secret",  # never the caller's to see
    }
    if "image/" in (ctx.request.headers.get("Accept") or ""):
        return Response(media.PNG, mimetype="image/webp", headers=headers)
    body = {"image": media.b64_png(), "credits_used": REVE_CREDITS, "request_id": "rv-1", "content_violation": False}
    return js(body, headers=headers)
