"""Jobs nobody polls: proxy-job-settle follows them to their end and settles each once; past their deadline their
hold goes back; the billing sweep leaves the holds of running jobs alone; a restart loses nothing (all is in the
database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import functions_framework
from sqlalchemy import select, update

from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.jobs.settle import follow_due
from shared.adapters.inprocess_tasks import InProcessTaskQueue
from shared.db.billing_models import CreditHold
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from tests.proxy.support import ProxyClient

USD = 1_000_000
ROOT = Path(__file__).resolve().parents[2]


def _job(proxy: ProxyClient, partner_job_id: str) -> ProxyJob:
    with proxy.container.sessions() as s:
        job = s.scalar(select(ProxyJob).where(ProxyJob.partner_job_id == partner_job_id))
        assert job is not None
        return job


def _make_due(proxy: ProxyClient, **values: object) -> None:
    with proxy.container.sessions() as s:
        s.execute(update(ProxyJob).values(next_check_at=utcnow() - timedelta(seconds=1), **values))
        s.commit()


def test_an_abandoned_job_is_followed_to_its_end_and_charged_once(proxy: ProxyClient) -> None:
    key = proxy.customer("gone", 10 * USD)
    submitted = proxy.with_key("POST", "/proxy/pika/generate/2.2/t2v", key, json_body={"promptText": "fox"})
    video = submitted.get_json()["video_id"]
    tasks = proxy.container.tasks
    assert isinstance(tasks, InProcessTaskQueue)
    assert ("proxy-job-settle", f"settle-{_job(proxy, video).id}-0") in tasks.enqueued
    gw = gateway_of(proxy.container)
    assert follow_due(gw) == {}  # not due yet
    _make_due(proxy)
    assert follow_due(gw) == {"pending": 1}  # the partner still works on it: looked again later
    job = _job(proxy, video)
    assert job.checks == 1 and job.next_check_at > utcnow()
    _make_due(proxy)
    assert follow_due(gw) == {"succeeded": 1}
    assert proxy.available("gone") == 10 * USD - 200_000 and proxy.held("gone") == 0
    late = proxy.with_key("GET", f"/proxy/pika/videos/{video}", key)  # the caller comes back: nothing more to pay
    assert late.status_code == 200 and "X-Comfy-Credits-Used" not in late.headers
    assert len(proxy.charges("gone")) == 1
    proxy.assert_balanced()


def test_the_settle_task_entry_point_follows_one_job(proxy: ProxyClient) -> None:
    key = proxy.customer("task", 10 * USD)
    proxy.fakes.state.polls_to_finish = 1
    submitted = proxy.with_key("POST", "/proxy/luma/generations", key, json_body={"prompt": "please fail"})
    job = _job(proxy, submitted.get_json()["id"])
    app = functions_framework.create_app("proxy_job_settle", str(ROOT / "functions/proxy/main.py"), "http")
    client = app.test_client()
    answer = client.post("/", json={"job_id": job.id})
    assert answer.status_code == 200 and answer.get_json() == {"job_id": job.id, "status": "failed"}
    assert client.post("/", json={"job_id": job.id}).get_json()["status"] == "failed"  # again: nothing moves
    assert client.post("/", json={"job_id": 7}).status_code == 400
    assert proxy.available("task") == 10 * USD and proxy.held("task") == 0 and proxy.charges("task") == []


def test_a_job_past_its_deadline_gives_its_hold_back(proxy: ProxyClient) -> None:
    key = proxy.customer("late", 10 * USD)
    proxy.with_key("POST", "/proxy/moonvalley/prompts/text-to-video", key, json_body={"prompt_text": "x"})
    _make_due(proxy, expires_at=utcnow() - timedelta(seconds=1))
    assert follow_due(gateway_of(proxy.container)) == {"expired": 1}
    assert proxy.available("late") == 10 * USD and proxy.held("late") == 0
    proxy.assert_balanced()


def test_the_holds_sweep_spares_running_jobs(proxy: ProxyClient) -> None:
    from functions.billing.jobs.holds import expire_stale_holds

    key = proxy.customer("slow", 10 * USD)
    proxy.with_key("POST", "/proxy/moonvalley/prompts/text-to-video", key, json_body={"prompt_text": "x"})
    with proxy.container.sessions() as s:
        s.execute(update(CreditHold).values(created_at=utcnow() - timedelta(days=1)))
        s.commit()
    max_age = timedelta(minutes=proxy.container.settings.hold_max_age_minutes)
    expire_stale_holds(proxy.container.billing_uow, max_age)
    assert proxy.held("slow") == 1  # the job still runs within its own deadline
    with proxy.container.sessions() as s:
        s.execute(update(ProxyJob).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    expire_stale_holds(proxy.container.billing_uow, max_age)
    assert proxy.held("slow") == 0 and proxy.available("slow") == 10 * USD


def test_a_job_polled_by_post_is_followed_too(proxy: ProxyClient) -> None:
    key = proxy.customer("post", 10 * USD)
    proxy.fakes.state.polls_to_finish = 1
    body = {"video_url": "https://x/a.mp4"}
    job = proxy.with_key("POST", "/proxy/hitpaw/api/video-enhancer", key, json_body=body).get_json()["data"]["job_id"]
    _make_due(proxy)
    assert follow_due(gateway_of(proxy.container)) == {"succeeded": 1}
    [look] = [r for r in proxy.fakes.received("hitpaw") if r.path == "/api/task-status"]
    assert look.method == "POST" and look.body == f'{{"job_id": "{job}"}}'.encode()
    assert proxy.available("post") == 10 * USD - 10 * 50_000
