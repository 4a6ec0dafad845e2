"""Each seed partner's answers, in its own shapes and job protocol (as proxy-catalog.md describes them). A prompt
containing "fail" makes a job end in the partner's failed state."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Request, Response

from local.fake_partners import media
from local.fake_partners.state import State

Handler = Callable[["Context"], Response]


class Context:
    def __init__(self, state: State, request: Request, base: str, partner: str, path: str) -> None:
        self.state, self.request, self.base, self.partner, self.path = state, request, base, partner, path

    @property
    def fields(self) -> dict[str, Any]:
        if self.request.mimetype == "application/json":
            value = self.request.get_json(silent=True)
            return value if isinstance(value, dict) else {}
        return {k: v for k, v in self.request.form.items()}

    @property
    def fails(self) -> bool:
        text = json.dumps(self.fields).lower()
        return "fail" in text

    def file(self, name: str, extension: str) -> str:
        return f"{self.base}/files/{name}.{extension}"


def js(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json", headers=headers)


def _count(value: Any) -> int:
    """How many images a request asks for, as a partner bounds it (1 to 10)."""
    return max(1, min(int(float(value or 1)), 10))


def not_found() -> Response:
    return js({"error": "not found"}, 404)


# -- synchronous ------------------------------------------------------------------------------------------------------


def openai_image(ctx: Context) -> Response:
    n = _count(ctx.fields.get("n"))
    data = [{"url": ctx.file(f"openai-{i}", "png")} for i in range(n)]
    return js({"created": int(time.time()), "data": data, "usage": {"input_tokens": 50, "output_tokens": 1000}})


def openai_response(ctx: Context) -> Response:
    if ctx.fields.get("stream") is True:
        return Response(_events(ctx), mimetype="text/event-stream")
    job = ctx.state.new_job("openai", "text")
    body = {"id": job.id, "status": "completed", "output": [{"type": "message", "content": [{"text": "hello"}]}]}
    job.extra["answer"] = {**body, "usage": {"input_tokens": 100, "output_tokens": 200}}
    return js(job.extra["answer"])


def _events(ctx: Context) -> Iterator[bytes]:
    yield b'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_stream"}}\n\n'
    for word in ("hel", "lo"):
        delta = json.dumps({"type": "response.output_text.delta", "delta": word})
        yield f"event: response.output_text.delta\ndata: {delta}\n\n".encode()
    gate = ctx.state.stream_gate
    if gate is not None:
        gate.wait(timeout=10)
    usage = {"input_tokens": 1000, "output_tokens": 500}
    done = {"type": "response.completed", "response": {"id": "resp_stream", "usage": usage}}
    yield f"event: response.completed\ndata: {json.dumps(done)}\n\n".encode()
    ctx.state.streams_finished += 1


def stability_image(ctx: Context) -> Response:
    if "image/" in (ctx.request.headers.get("Accept") or ""):
        return Response(media.PNG, mimetype="image/png", headers={"finish-reason": "SUCCESS", "seed": "1"})
    return js({"image": media.b64_png(), "finish_reason": "SUCCESS", "seed": 1})


def stability_audio(ctx: Context) -> Response:
    return js({"audio": "SUQz", "finish_reason": "SUCCESS", "seed": 1})


def ideogram(ctx: Context) -> Response:
    request = ctx.fields.get("image_request")
    n = _count((request or ctx.fields).get("num_images"))
    return js(
        {
            "created": "2026-12-04T00:00:00Z",
            "data": [{"url": ctx.file(f"ideogram-{i}", "png"), "prompt": "x"} for i in range(n)],
        }
    )


def recraft(ctx: Context) -> Response:
    if ctx.path.startswith("/images/") and ctx.path not in (
        "/images/generations",
        "/images/imageToImage",
        "/images/inpaint",
        "/images/replaceBackground",
    ):
        return js({"image": {"url": ctx.file("recraft", "png")}})
    n = _count(ctx.fields.get("n"))
    return js({"created": 1, "data": [{"url": ctx.file(f"recraft-{i}", "png")} for i in range(n)]})


def upload(ctx: Context) -> Response:
    return js(
        {"ErrCode": 0, "ErrMsg": "success", "Resp": {"img_id": 7}, "data": {"image_token": "tok"}, "id": "upload-1"}
    )


# -- jobs: submit, then poll ------------------------------------------------------------------------------------------

STAGES: dict[str, dict[str, str]] = {
    # partner: stage -> status word ("failed" is the failed terminal word)
    "runway": {"queued": "PENDING", "running": "RUNNING", "done": "SUCCEEDED", "failed": "FAILED"},
    "kling": {"queued": "submitted", "running": "processing", "done": "succeed", "failed": "failed"},
    "kling-turbo": {"queued": "submitted", "running": "processing", "done": "succeeded", "failed": "failed"},
    "luma": {"queued": "queued", "running": "dreaming", "done": "completed", "failed": "failed"},
    "pika": {"queued": "queued", "running": "started", "done": "finished", "failed": "failed"},
    "tripo": {"queued": "queued", "running": "running", "done": "success", "failed": "failed"},
    "moonvalley": {"queued": "pending", "running": "running", "done": "completed", "failed": "failed"},
    "openai": {"queued": "queued", "running": "in_progress", "done": "completed", "failed": "failed"},
    "bfl": {"queued": "Pending", "running": "Pending", "done": "Ready", "failed": "Error"},
    "pixverse": {"queued": "5", "running": "5", "done": "1", "failed": "8"},
    "hitpaw": {"queued": "WAITING", "running": "CONVERTING", "done": "COMPLETED", "failed": "ERROR"},
}


def _word(family: str, stage: str, fails: bool) -> str:
    return STAGES[family]["failed" if stage == "done" and fails else stage]


def submit(family: str, kind: str, shape: Callable[[Context, str], Response]) -> Handler:
    def handler(ctx: Context) -> Response:
        job = ctx.state.new_job(ctx.partner, kind, ctx.fails, numeric=family == "pixverse", family=family)
        return shape(ctx, job.id)

    return handler


def poll(shape: Callable[[Context, str, str, str], Response], id_from: str = "path") -> Handler:
    """`shape(ctx, job_id, status word, result url)`; the id is the path's last segment or the `id`/`task_ids` query."""

    def handler(ctx: Context) -> Response:
        in_path = ctx.path.rstrip("/").rsplit("/", 1)[-1]
        job_id = in_path if id_from == "path" else ctx.request.args.get(id_from, "")
        job, stage = ctx.state.poll(job_id)
        if job is None:
            return not_found()
        word = _word(job.extra.get("family", ctx.partner), stage, job.fails)
        extension = {"video": "mp4", "image": "png", "model": "glb"}.get(job.kind, "png")
        return shape(ctx, job.id, word, ctx.file(job.id, extension))

    return handler


def kling_submit(ctx: Context, job_id: str) -> Response:
    return js(
        {"code": 0, "message": "SUCCEED", "request_id": "r1", "data": {"task_id": job_id, "task_status": "submitted"}}
    )


def kling_poll(ctx: Context, job_id: str, word: str, url: str) -> Response:
    result = (
        {"videos": [{"id": "v1", "url": url, "duration": "5"}]}
        if url.endswith(".mp4")
        else {"images": [{"index": 0, "url": url}]}
    )
    data = {"task_id": job_id, "task_status": word, "task_result": result if word == "succeed" else {}}
    return js({"code": 0, "message": "SUCCEED", "request_id": "r2", "data": data})


def kling_turbo_submit(ctx: Context, job_id: str) -> Response:
    return js({"code": 0, "message": "SUCCEED", "data": {"id": job_id, "status": "submitted"}})


def kling_turbo_poll(ctx: Context, job_id: str, word: str, url: str) -> Response:
    return js({"code": 0, "data": [{"id": job_id, "status": word, "output": {"url": url}}]})


def by_id(key: str = "id", status: str = "status", code: int = 200) -> Callable[[Context, str], Response]:
    def shape(ctx: Context, job_id: str) -> Response:
        return js({key: job_id, status: "queued"} if status else {key: job_id}, code)

    return shape


def flat_poll(status: str, result: Callable[[str], dict[str, Any]]) -> Callable[[Context, str, str, str], Response]:
    def shape(ctx: Context, job_id: str, word: str, url: str) -> Response:
        done = word in ("SUCCEEDED", "completed", "finished", "succeed", "success", "Ready")
        return js({"id": job_id, status: word, **(result(url) if done else {})})

    return shape


def bfl_submit(ctx: Context, job_id: str) -> Response:
    return js({"id": job_id, "polling_url": f"{ctx.base}/bfl/v1/get_result?id={job_id}", "cost": 4.5})


def bfl_poll(ctx: Context, job_id: str, word: str, url: str) -> Response:
    body: dict[str, Any] = {"id": job_id, "status": word}
    if word == "Ready":
        body["result"] = {"sample": url}
    return js(body)


def pixverse_submit(ctx: Context, job_id: str) -> Response:
    return js({"ErrCode": 0, "ErrMsg": "success", "Resp": {"video_id": int(job_id)}})


def pixverse_poll(ctx: Context, job_id: str, word: str, url: str) -> Response:
    resp: dict[str, Any] = {"id": int(job_id), "status": int(word)}
    if word == "1":
        resp["url"] = url
    return js({"ErrCode": 0, "ErrMsg": "success", "Resp": resp})


def tripo_submit(ctx: Context, job_id: str) -> Response:
    return js({"code": 0, "data": {"task_id": job_id}})


def tripo_poll(ctx: Context, job_id: str, word: str, url: str) -> Response:
    data: dict[str, Any] = {"task_id": job_id, "status": word}
    if word == "success":
        data["output"] = {"model": url}
    return js({"code": 0, "data": data})


def hitpaw_submit(ctx: Context, job_id: str) -> Response:
    return js({"code": 200, "message": "OK", "data": {"job_id": job_id, "consume_coins": 75}})


def hitpaw_poll(ctx: Context) -> Response:
    job, stage = ctx.state.poll(str(ctx.fields.get("job_id", "")))
    if job is None:
        return js({"error_code": 404, "message": "no such job"}, 404)
    word = _word("hitpaw", stage, job.fails)
    data: dict[str, Any] = {"job_id": job.id, "status": word}
    if word == "COMPLETED":
        data["res_url"] = ctx.file(job.id, "png")
    return js({"code": 200, "message": "OK", "data": data})


def stability_result(ctx: Context) -> Response:
    job_id = ctx.path.rsplit("/", 1)[-1]
    job, stage = ctx.state.poll(job_id)
    if job is None:
        return js({"name": "not_found", "errors": ["no such generation"]}, 404)
    if stage != "done":
        return js({"id": job_id, "status": "in-progress"}, 202)
    return stability_image(ctx)


def openai_stored_response(ctx: Context) -> Response:
    job = ctx.state.jobs.get(ctx.path.rsplit("/", 1)[-1])
    return js(job.extra["answer"]) if job and "answer" in job.extra else not_found()


def openai_video_content(ctx: Context) -> Response:
    return Response(media.MP4 * 64, mimetype="video/mp4")
