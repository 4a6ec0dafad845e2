"""The answers of the signed and multi-step fake partners, in each partner's shapes: Tencent's `{"Response": ...}` by
`X-TC-Action`, Vertex AI's Gemini, Imagen and Veo operations, the Gemini Interactions API, Topaz's image and video
steps, Rodin's sub-jobs and Sonilo's NDJSON stream. A prompt containing "fail" makes a job end failed; a Tencent prompt
containing "busy" is refused as a rate limit (HTTP 200 with `Response.Error`, as Tencent answers)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Response

from local.fake_partners import media
from local.fake_partners.answers import Context, js

RAN, DONE, FAILED = "running", "done", "failed"


def _stage(ctx: Context, job_id: str) -> tuple[Any, str]:
    """The job and where it stands after this look: "queued", "running", "done" or "failed"."""
    job, stage = ctx.state.poll(job_id)
    if job is not None and stage == "done" and job.fails:
        stage = FAILED
    return job, stage


# -- Tencent ----------------------------------------------------------------------------------------------------------


def tencent(ctx: Context) -> Response:
    action = ctx.request.headers.get("X-TC-Action", "")
    request_id = str(uuid.uuid4())
    if action.startswith("Submit"):
        if "busy" in json.dumps(ctx.fields).lower():
            error = {"Code": "RequestLimitExceeded", "Message": "too many requests"}
            return js({"Response": {"Error": error, "RequestId": request_id}})
        job = ctx.state.new_job("tencent", "model", ctx.fails, numeric=True, action=action)
        return js({"Response": {"JobId": job.id, "RequestId": request_id}})
    job, stage = _stage(ctx, str(ctx.fields.get("JobId", "")))
    if job is None:
        error = {"Code": "ResourceNotFound", "Message": "no such job"}
        return js({"Response": {"Error": error, "RequestId": request_id}})
    word = {"queued": "WAIT", "running": "RUN", DONE: "DONE", FAILED: "FAIL"}[stage]
    answer: dict[str, Any] = {"Status": word, "ErrorCode": "", "ErrorMessage": "", "RequestId": request_id}
    if word == "DONE":
        answer["ResultFile3Ds"] = [{"Type": "GLB", "Url": ctx.file(job.id, "glb")}]
    return js({"Response": answer})


# -- Vertex AI --------------------------------------------------------------------------------------------------------


def gemini(ctx: Context) -> Response:
    model = ctx.path.rsplit("/", 1)[-1].split(":")[0]
    parts = [{"text": "here it is"}, {"inlineData": {"mimeType": "image/png", "data": media.b64_png()}}]
    usage = {
        "promptTokenCount": 100,
        "candidatesTokenCount": 1300,
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}, {"modality": "TEXT", "tokenCount": 10}],
        "totalTokenCount": 1400,
    }
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
    return js({"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": "r1"})


def imagen(ctx: Context) -> Response:
    count = int((ctx.fields.get("parameters") or {}).get("sampleCount") or 1)
    return js({"predictions": [{"bytesBase64Encoded": media.b64_png(), "mimeType": "image/png"}] * count})


def veo_submit(ctx: Context) -> Response:
    model = ctx.path.rsplit("/", 1)[-1].split(":")[0]
    job = ctx.state.new_job("veo", "video", ctx.fails)
    return js(
        {"name": f"projects/fake-project/locations/us-central1/publishers/google/models/{model}/operations/{job.id}"}
    )


def veo_poll(ctx: Context) -> Response:
    name = str(ctx.fields.get("operationName", ""))
    job, stage = _stage(ctx, name.rsplit("/", 1)[-1])
    if job is None:
        return js({"error": {"code": 404, "message": "operation not found", "status": "NOT_FOUND"}}, 404)
    if stage in ("queued", "running"):
        return js({"name": name, "done": False})
    if stage == FAILED:
        return js({"name": name, "done": True, "error": {"code": 3, "message": "the prompt was refused"}})
    video = {"bytesBase64Encoded": base64.b64encode(media.MP4).decode(), "mimeType": "video/mp4"}
    return js({"name": name, "done": True, "response": {"raiMediaFilteredCount": 0, "videos": [video]}})


# -- Gemini Interactions ----------------------------------------------------------------------------------------------


def interaction_create(ctx: Context) -> Response:
    job = ctx.state.new_job("gemini-interactions", "video", ctx.fails, model=str(ctx.fields.get("model", "")))
    return js({"id": job.id, "model": job.extra["model"], "object": "interaction", "status": "in_progress"})


def interaction_read(ctx: Context) -> Response:
    job, stage = _stage(ctx, ctx.path.rsplit("/", 1)[-1])
    if job is None:
        return js({"error": {"code": 404, "message": "not found"}}, 404)
    body: dict[str, Any] = {"id": job.id, "model": job.extra["model"], "object": "interaction"}
    if stage in ("queued", "running"):
        return js({**body, "status": "in_progress"})
    if stage == FAILED:
        return js({**body, "status": "failed"})
    uri = f"https://generativelanguage.googleapis.com/v1beta/files/{job.id}-video"
    output = {"type": "model_output", "content": [{"type": "video", "uri": uri, "mime_type": "video/mp4"}]}
    usage = {
        "total_input_tokens": 1000,
        "total_output_tokens": 5000,
        "total_thought_tokens": 0,
        "output_tokens_by_modality": [{"modality": "video", "tokens": 5000}],
    }
    return js({**body, "status": "completed", "steps": [output], "usage": usage})


def interaction_file(ctx: Context) -> Response:
    name = ctx.path.rsplit("/", 1)[-1]
    if name.endswith(":download") and ctx.request.args.get("alt") == "media":
        return Response(media.MP4, mimetype="video/mp4")
    return js({"name": f"files/{name}", "mimeType": "video/mp4", "state": "ACTIVE"})


# -- Topaz ------------------------------------------------------------------------------------------------------------


def topaz_image_submit(ctx: Context) -> Response:
    job = ctx.state.new_job("topaz", "image", ctx.fails)
    return js({"process_id": job.id, "source_id": "src-1", "eta": 1_700_000_000})


def topaz_image_status(ctx: Context) -> Response:
    job, stage = _stage(ctx, ctx.path.rsplit("/", 1)[-1])
    if job is None:
        return js({"message": "not found"}, 404)
    word = {"queued": "Pending", "running": "Processing", DONE: "Completed", FAILED: "Failed"}[stage]
    return js({"process_id": job.id, "status": word, "credits": 4, "progress": 100 if stage == DONE else 10})


def topaz_image_download(ctx: Context) -> Response:
    job_id = ctx.path.rsplit("/", 1)[-1]
    if job_id not in ctx.state.jobs:
        return js({"message": "not found"}, 404)
    return js({"download_url": ctx.file(job_id, "png"), "expiry": 1_700_000_000})


def topaz_video_create(ctx: Context) -> Response:
    job = ctx.state.new_job("topaz", "video", ctx.fails)
    return js({"requestId": job.id, "estimates": {"cost": [10, 12], "time": [600, 700]}})


def topaz_video_accept(ctx: Context) -> Response:
    job_id = ctx.path.split("/")[2]
    if job_id not in ctx.state.jobs:
        return js({"message": "not found"}, 404)
    return js({"message": "Accepted", "uploadId": "up-1", "urls": [f"{ctx.base}/topaz/upload/{job_id}?part=1"]})


def topaz_upload(ctx: Context) -> Response:
    """The presigned PUT (no key: the URL is the permission), answering the part's ETag."""
    return Response(status=200, headers={"ETag": '"d41d8cd98f00b204e9800998ecf8427e"'})


def topaz_video_complete(ctx: Context) -> Response:
    job_id = ctx.path.split("/")[2]
    if job_id not in ctx.state.jobs or not ctx.fields.get("uploadResults"):
        return js({"message": "no upload"}, 400)
    ctx.state.jobs[job_id].extra["uploaded"] = True
    return js({"message": "Processing has been queued"}, 202)


def topaz_video_status(ctx: Context) -> Response:
    job, stage = _stage(ctx, ctx.path.split("/")[2])
    if job is None:
        return js({"message": "not found"}, 404)
    word = {"queued": "accepted", "running": "processing", DONE: "complete", FAILED: "failed"}[stage]
    body: dict[str, Any] = {"status": word, "estimates": {"cost": [10, 12]}, "progress": 50}
    if word == "complete":
        body["download"] = {"url": ctx.file(job.id, "mp4"), "expiresIn": 86_400_000}
    return js(body)


# -- Rodin ------------------------------------------------------------------------------------------------------------


def rodin_submit(ctx: Context) -> Response:
    task = str(uuid.uuid4())
    job = ctx.state.new_job("rodin", "model", ctx.fails, task=task)
    ctx.state.jobs[task] = job  # the download names the task
    return js({"uuid": task, "jobs": {"subscription_key": job.id, "uuids": ["sub-a", "sub-b"]}, "error": None})


def rodin_status(ctx: Context) -> Response:
    """Two sub-jobs: the first is done a poll before the second (which fails if the prompt asked)."""
    with ctx.state.lock:
        job = ctx.state.jobs.get(str(ctx.fields.get("subscription_key", "")))
        if job is None:
            return js({"error": "not found"}, 404)
        job.polls += 1
        polls = job.polls
    first = "Waiting" if polls == 1 else "Done"
    second = {1: "Generating", 2: "Generating"}.get(polls, "Failed" if job.fails else "Done")
    return js({"jobs": [{"uuid": "sub-a", "status": first}, {"uuid": "sub-b", "status": second}]})


def rodin_download(ctx: Context) -> Response:
    job = ctx.state.jobs.get(str(ctx.fields.get("task_uuid", "")))
    if job is None:
        return js({"error": "not found"}, 404)
    return js({"list": [{"url": ctx.file(job.id, "glb"), "name": "base_basic_pbr.glb"}]})


# -- Sonilo -----------------------------------------------------------------------------------------------------------


def sonilo(ctx: Context) -> Response:
    return Response(_music(ctx.fails), mimetype="application/x-ndjson")


def _music(fails: bool) -> Iterator[bytes]:
    title = {
        "type": "title",
        "stream_index": 0,
        "prompt_index": 0,
        "copy_index": 0,
        "title": "Tide",
        "display_tags": [],
    }
    yield json.dumps(title).encode() + b"\n"
    for _ in range(3):
        chunk = {"type": "audio_chunk", "sample_rate": 44100, "channels": 2, "stream_index": 0, "num_streams": 1}
        yield json.dumps({**chunk, "data": base64.b64encode(media.MP3).decode()}).encode() + b"\n"
    end = {"type": "error", "code": "generation_failed", "message": "no music"} if fails else {"type": "complete"}
    yield json.dumps(end).encode() + b"\n"
