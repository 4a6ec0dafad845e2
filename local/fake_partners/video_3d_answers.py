"""The answers of MiniMax, Vidu, Wan, WaveSpeed, Meshy and fal, each in the partner's own shapes (the live spec's),
with its own status words. A prompt containing "fail" ends the job failed, one containing "cancel" cancelled."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from flask import Response

from local.fake_partners.answers import Context, Handler, js
from local.fake_partners.state import Job

# partner: stage -> status word; "failed" and "cancelled" are the two unhappy ends
WORDS: dict[str, dict[str, str]] = {
    "minimax": {"queued": "Queueing", "running": "Processing", "done": "Success", "failed": "Fail"},
    "minimax-v2": {"queued": "queued", "running": "running", "done": "succeeded", "failed": "failed"},
    "vidu": {"queued": "queueing", "running": "processing", "done": "success", "failed": "failed"},
    "wan": {"queued": "PENDING", "running": "RUNNING", "done": "SUCCEEDED", "failed": "FAILED"},
    "wavespeed": {"queued": "created", "running": "processing", "done": "completed", "failed": "failed"},
    "meshy": {"queued": "PENDING", "running": "IN_PROGRESS", "done": "SUCCEEDED", "failed": "FAILED"},
    "meshy-remesh": {"queued": "PENDING", "running": "PROCESSING", "done": "SUCCEEDED", "failed": "FAILED"},
    "fal": {"queued": "IN_QUEUE", "running": "IN_PROGRESS", "done": "COMPLETED", "failed": "COMPLETED"},
}
CANCELLED = {"minimax-v2": "cancelled", "wan": "CANCELED", "meshy": "CANCELED"}
Shape = Callable[[Context, Job, str], Response]  # the job, its status word -> the answer


def started(family: str, kind: str, shape: Callable[[Context, Job], Response]) -> Handler:
    """A submit: a new job of `kind` ("video", "image", "model"), answered by `shape`."""

    def handler(ctx: Context) -> Response:
        cancel = "cancel" in json.dumps(ctx.fields).lower()
        job = ctx.state.new_job(ctx.partner, kind, ctx.fails or cancel, family=family, cancel=cancel)
        return shape(ctx, job)

    return handler


def word_of(job: Job, stage: str) -> str:
    words = WORDS[job.extra["family"]]
    if stage != "done" or not job.fails:
        return words[stage]
    return CANCELLED.get(job.extra["family"], words["failed"]) if job.extra.get("cancel") else words["failed"]


def polled(shape: Shape, job_id: Callable[[Context], str], missing: Callable[[], Response]) -> Handler:
    """A poll: the job named by `job_id(ctx)`, one stage further, answered by `shape`."""

    def handler(ctx: Context) -> Response:
        job, stage = ctx.state.poll(job_id(ctx))
        if job is None or job.partner != ctx.partner:
            return missing()
        return shape(ctx, job, word_of(job, stage))

    return handler


def segment(back: int) -> Callable[[Context], str]:
    """The path segment `back` places from the end (1: the last)."""
    return lambda ctx: ctx.path.rstrip("/").split("/")[-back]


def query(name: str) -> Callable[[Context], str]:
    return lambda ctx: ctx.request.args.get(name, "")


def result_of(ctx: Context, job: Job) -> str:
    return ctx.file(job.id, {"video": "mp4", "image": "png", "model": "glb"}.get(job.kind, "png"))


# -- MiniMax ----------------------------------------------------------------------------------------------------------

_OK = {"status_code": 0, "status_msg": "success"}


def minimax_missing() -> Response:
    return js({"base_resp": {"status_code": 1004, "status_msg": "task not found"}}, 200)


def minimax_submit(ctx: Context, job: Job) -> Response:
    job.extra["file_id"] = str(random.randrange(10**14, 10**15))  # MiniMax's ids are long integers
    return js({"task_id": job.id, "base_resp": _OK})


def minimax_query(ctx: Context, job: Job, word: str) -> Response:
    body: dict[str, Any] = {"task_id": job.id, "status": word, "base_resp": _OK}
    if word == "Success":
        body |= {"file_id": job.extra["file_id"], "video_width": 1366, "video_height": 768}
        job.extra["finished"] = True
    return js(body)


def minimax_retrieve(ctx: Context) -> Response:
    """The download URL of a finished task's file (MiniMax answers `file_id` as a number)."""
    file_id = ctx.request.args.get("file_id", "")
    with ctx.state.lock:
        job = next((j for j in ctx.state.jobs.values() if j.extra.get("file_id") == file_id), None)
    if job is None or not job.extra.get("finished"):
        return js({"file": {}, "base_resp": {"status_code": 1004, "status_msg": "file not found"}})
    file = {
        "file_id": int(file_id),
        "bytes": 4096,
        "created_at": int(time.time()),
        "filename": "output.mp4",
        "purpose": "video_generation",
        "download_url": result_of(ctx, job),
    }
    return js({"file": file, "base_resp": _OK})


def minimax_v2_submit(ctx: Context, job: Job) -> Response:
    return js({"task_id": job.id})


def minimax_v2_query(ctx: Context, job: Job, word: str) -> Response:
    task: dict[str, Any] = {"id": job.id, "status": word, "model": "MiniMax-H3", "task_type": "video_generation"}
    if word == "succeeded":
        task |= {"content": {"url": result_of(ctx, job)}, "duration": 6, "resolution": "2K", "ratio": "16:9"}
    elif word in ("failed", "cancelled"):
        task["error"] = {"code": 1026, "message": "the input did not pass moderation"}
    return js({"task": task})


# -- Vidu -------------------------------------------------------------------------------------------------------------


def vidu_submit(ctx: Context, job: Job) -> Response:
    fields = ctx.fields
    seconds = int(fields.get("duration") or 5)
    body = {k: fields[k] for k in ("model", "prompt", "images", "resolution") if k in fields}
    credits = 16 * seconds  # Vidu's own count, reported at submit
    return js({"task_id": job.id, "state": "created", "credits": credits, "duration": seconds, **body})


def vidu_creations(ctx: Context, job: Job, word: str) -> Response:
    body: dict[str, Any] = {"id": job.id, "state": word, "err_code": "", "creations": []}
    if word == "success":
        url = result_of(ctx, job)
        body["creations"] = [{"id": f"{job.id}-1", "url": url, "cover_url": ctx.file(f"{job.id}-cover", "png")}]
    elif word == "failed":
        body["err_code"] = "AuditSubmitIllegal"
    return js(body)


# -- Wan (DashScope) --------------------------------------------------------------------------------------------------


def wan_submit(ctx: Context, job: Job) -> Response:
    if ctx.request.headers.get("X-DashScope-Async") != "enable":
        return js({"code": "AccessDenied", "message": "current user api does not support synchronous calls"}, 403)
    request_id = f"req-{job.id}"
    return js({"request_id": request_id, "output": {"task_id": job.id, "task_status": "PENDING"}})


def wan_task(ctx: Context, job: Job, word: str) -> Response:
    if "X-DashScope-Async" in ctx.request.headers:  # a read takes no async switch: the gateway must not send it
        return js({"code": "InvalidParameter", "message": "X-DashScope-Async is for task submission"}, 400)
    output: dict[str, Any] = {"task_id": job.id, "task_status": word, "submit_time": "2026-01-01 00:00:00.000"}
    usage: dict[str, Any] = {}
    if word == "SUCCEEDED" and job.kind == "video":
        output["video_url"] = result_of(ctx, job)
        usage = {"video_duration": 5, "video_count": 1, "SR": 720}
    elif word == "SUCCEEDED":
        output["results"] = [{"url": result_of(ctx, job)}]
        usage = {"image_count": 1}
    elif word in ("FAILED", "CANCELED"):
        output |= {"code": "DataInspectionFailed", "message": "Input data may contain inappropriate content."}
    return js({"request_id": f"req-{job.id}", "output": output, "usage": usage})


def wan_missing() -> Response:
    return js({"request_id": "req-none", "output": {"task_id": "", "task_status": "UNKNOWN"}})


# -- WaveSpeed --------------------------------------------------------------------------------------------------------


def _wavespeed(ctx: Context, job: Job, word: str) -> dict[str, Any]:
    done = word == "completed"
    return {
        "code": 200,
        "message": "success",
        "data": {
            "id": job.id,
            "model": "wavespeed-ai/" + job.extra.get("model", "flashvsr"),
            "status": word,
            "outputs": [result_of(ctx, job)] if done else [],
            "urls": {"get": f"{ctx.base}/wavespeed/api/v3/predictions/{job.id}/result"},
            "error": "the input could not be decoded" if word == "failed" else "",
            "created_at": "2026-01-01T00:00:00Z",
        },
    }


def wavespeed_submit(ctx: Context, job: Job) -> Response:
    job.extra["model"] = ctx.path.removeprefix("/api/v3/wavespeed-ai/")
    return js(_wavespeed(ctx, job, "created"))


def wavespeed_result(ctx: Context, job: Job, word: str) -> Response:
    return js(_wavespeed(ctx, job, word))


def wavespeed_missing() -> Response:
    return js({"code": 404, "message": "prediction not found", "data": None}, 404)


# -- Meshy ------------------------------------------------------------------------------------------------------------


def meshy_submit(ctx: Context, job: Job) -> Response:
    return js({"result": job.id})


def meshy_task(ctx: Context, job: Job, word: str) -> Response:
    progress = {"PENDING": 0, "SUCCEEDED": 100}.get(word, 50)
    body: dict[str, Any] = {"id": job.id, "status": word, "progress": progress, "created_at": 1767225600000}
    if word == "SUCCEEDED":
        glb = result_of(ctx, job)
        if "/rigging/" in ctx.path or "/animations/" in ctx.path:
            body["result"] = {"rigged_character_glb_url": glb, "animation_glb_url": glb}
        else:
            body |= {"model_urls": {"glb": glb}, "thumbnail_url": ctx.file(f"{job.id}-thumb", "png")}
    elif word in ("FAILED", "CANCELED"):
        body["task_error"] = {"message": "the task could not be completed"}
    return js(body)


def meshy_missing() -> Response:
    return js({"message": "Task not found"}, 404)


# -- fal (queue) ------------------------------------------------------------------------------------------------------


def _queue(ctx: Context, job: Job, word: str) -> dict[str, Any]:
    app = job.extra["app"]
    base = f"{ctx.base}/fal/{app}/requests/{job.id}"
    body: dict[str, Any] = {"status": word, "request_id": job.id, "response_url": base, "status_url": f"{base}/status"}
    if word == "IN_QUEUE":
        body["queue_position"] = 0
    return body


def fal_submit(ctx: Context, job: Job) -> Response:
    parts = ctx.path.strip("/").split("/")
    job.extra["app"] = "/".join(parts[:2])  # fal's app id: owner and app, without the sub-path
    return js(_queue(ctx, job, "IN_QUEUE"))


def fal_status(ctx: Context, job: Job, word: str) -> Response:
    body = _queue(ctx, job, word)
    if word == "COMPLETED":
        job.extra["completed"] = True
        if job.fails:  # fal's queue completes a failed request too: the error is in its result
            body |= {"error": "the content was flagged", "error_type": "content_policy_violation"}
    return js(body)


def fal_result(ctx: Context) -> Response:
    job = ctx.state.jobs.get(ctx.path.rstrip("/").split("/")[-1])
    if job is None or job.partner != "fal":
        return js({"detail": "Request not found"}, 404)
    if not job.extra.get("completed"):
        ctx.state.poll(job.id)  # the queue moves on whoever asks
        if job.polls < ctx.state.polls_to_finish:
            return js({"detail": "Request is still in progress"}, 400)
        job.extra["completed"] = True
    if job.fails:
        return js({"detail": [{"msg": "the content was flagged", "type": "content_policy_violation"}]}, 422)
    if job.kind == "video":
        video = {"url": result_of(ctx, job), "content_type": "video/mp4", "file_name": "output.mp4"}
        return js({"video": video, "timings": {"inference": 1.0}})
    maps = ("basecolor", "normal", "roughness", "metalness", "height")
    images = [{"url": ctx.file(f"{job.id}-{m}", "png"), "map_type": m} for m in maps]
    return js({"images": images, "seed": 1, "timings": {"inference": 1.0}})


def fal_missing() -> Response:
    return js({"detail": "Request not found"}, 404)
