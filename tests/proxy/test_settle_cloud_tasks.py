"""A job nobody polls, followed through the real gcloud-tasks-emulator: the submit's commit queues a delayed
proxy-job-settle task, the emulator delivers it to the proxy_job_settle function (as functions-framework builds it),
which polls the partner and settles the job once. Skipped, with the reason printed, where the emulator is not built
(`make tasks-emulator`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import functions_framework
import pytest
from sqlalchemy import select

from shared.adapters.cloud_tasks import PROXY_JOB_SETTLE, CloudTasksQueue
from shared.db.proxy_models import ProxyJob
from tests.billing.test_cloud_tasks import Target, serve
from tests.billing.usage_support import LOCATION, PROJECT, QUEUE, tasks_emulator, wait_until
from tests.proxy.support import ProxyClient

ROOT = Path(__file__).resolve().parents[2]
USD = 1_000_000


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with tasks_emulator() as host:
        yield host


@pytest.mark.parametrize("proxy", [{"PROXY_SETTLE_DELAY_SECONDS": 1}], indirect=True)
def test_an_abandoned_job_is_settled_by_its_cloud_task(proxy: ProxyClient, emulator: str) -> None:
    settle = functions_framework.create_app("proxy_job_settle", str(ROOT / "functions/proxy/main.py"), "http")
    with serve(Target(app=settle)) as target:
        queue = CloudTasksQueue(PROJECT, LOCATION, {PROXY_JOB_SETTLE: (QUEUE, target.url)}, emulator_host=emulator)
        try:
            proxy.use(tasks=queue)
            proxy.fakes.state.polls_to_finish = 1  # the partner is done by the first look
            key = proxy.customer("away", 10 * USD)
            submitted = proxy.with_key("POST", "/proxy/luma/generations", key, json_body={"prompt": "x"})
            assert submitted.status_code == 201
            assert proxy.held("away") == 1
            assert wait_until(lambda: proxy.held("away") == 0, timeout=30)
        finally:
            queue.close()
    assert len(target.received) == 1  # one task, one look, settled
    with proxy.container.sessions() as s:
        job = s.scalar(select(ProxyJob))
        assert job is not None and job.status == "succeeded"
    assert proxy.available("away") == 10 * USD - 5 * 320_000
    assert len(proxy.charges("away")) == 1
    proxy.assert_balanced()
