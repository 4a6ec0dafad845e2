"""The TaskQueue port on Google Cloud Tasks (`google-cloud-tasks`, imported on first use).

Each kind of task goes to its own queue and HTTP target (`usage-export`: USAGE_EXPORT_QUEUE -> USAGE_EXPORT_URL, the
billing-usage-export function; `proxy-job-settle`: PROXY_SETTLE_QUEUE -> PROXY_SETTLE_URL, the proxy-job-settle
function). A task is a POST of the payload as JSON, named after its key: Cloud Tasks refuses a
second task of the same name (for about an hour after the first ran), and that refusal (`AlreadyExists`) is success
here, so queueing one key twice delivers it once. With TASKS_SERVICE_ACCOUNT the task carries an OIDC token of that
account (its audience is the target URL), which is what lets the private function be invoked. With
CLOUD_TASKS_EMULATOR_HOST the client talks to the emulator over an insecure gRPC channel."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.errors import Unavailable

if TYPE_CHECKING:
    from shared.settings import Settings

USAGE_EXPORT = "usage-export"
PROXY_JOB_SETTLE = "proxy-job-settle"
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
# google-cloud-tasks' client is typed, but building it is lazy: Any keeps the import out of module load.
_Client = Any


def task_id(key: str) -> str:
    """The task's name within its queue: the key itself when Cloud Tasks allows it (letters, digits, `-`, `_`),
    otherwise its SHA-256; either way the same key always makes the same name."""
    return key if _TASK_ID.match(key) else hashlib.sha256(key.encode()).hexdigest()


class CloudTasksQueue:
    def __init__(
        self,
        project: str,
        location: str,
        targets: Mapping[str, tuple[str, str | None]],
        *,
        service_account: str | None = None,
        emulator_host: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """`targets`: kind -> (queue id, target URL)."""
        self.project = project
        self.location = location
        self.targets = dict(targets)
        self.service_account = service_account
        self.emulator_host = emulator_host
        self._timeout = timeout
        self._client: tuple[_Client, Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, s: Settings) -> CloudTasksQueue:
        return cls(
            s.gcp_project,
            s.tasks_location,
            {
                USAGE_EXPORT: (s.usage_export_queue, s.usage_export_url),
                PROXY_JOB_SETTLE: (s.proxy_settle_queue, s.proxy_settle_url),
            },
            service_account=s.tasks_service_account,
            emulator_host=s.cloud_tasks_emulator_host,
        )

    def queue_path(self, kind: str) -> str:
        queue, _ = self._target(kind)
        return f"projects/{self.project}/locations/{self.location}/queues/{queue}"

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, key: str, delay_seconds: float = 0) -> None:
        from google.api_core import exceptions

        _, url = self._target(kind)
        parent = self.queue_path(kind)
        task = self._task(parent, url, payload, key, delay_seconds)
        client, retry = self._sdk()
        try:
            client.create_task(parent=parent, task=task, retry=retry, timeout=self._timeout)
        except exceptions.AlreadyExists:
            return  # queued before under this key: Cloud Tasks delivers it once
        except exceptions.GoogleAPICallError as exc:
            raise Unavailable(
                f"Cloud Tasks refused the {kind} task ({type(exc).__name__}).", code="tasks_unavailable"
            ) from exc

    def close(self) -> None:
        with self._lock:
            built, self._client = self._client, None
        if built is not None:
            built[0].transport.close()

    def _target(self, kind: str) -> tuple[str, str]:
        if kind not in self.targets:
            raise ValueError(f"no queue is configured for tasks of kind {kind!r}")
        queue, url = self.targets[kind]
        if not url:
            raise Unavailable(f"No target URL is configured for {kind} tasks.", code="tasks_not_configured")
        return queue, url

    def _task(
        self, parent: str, url: str, payload: Mapping[str, Any], key: str, delay_seconds: float
    ) -> dict[str, Any]:
        tasks_v2 = _sdk_module()
        request: dict[str, Any] = {
            "http_method": tasks_v2.HttpMethod.POST,
            "url": url,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(dict(payload), separators=(",", ":")).encode(),
        }
        if self.service_account:
            request["oidc_token"] = {"service_account_email": self.service_account, "audience": url}
        task: dict[str, Any] = {"name": f"{parent}/tasks/{task_id(key)}", "http_request": request}
        if delay_seconds > 0:
            task["schedule_time"] = datetime.now(UTC) + timedelta(seconds=delay_seconds)
        return task

    def _sdk(self) -> tuple[_Client, Any]:
        built = self._client
        if built is not None:
            return built
        with self._lock:
            if self._client is None:
                self._client = (self._new_client(), self._retry())
            return self._client

    def _new_client(self) -> _Client:
        tasks_v2 = _sdk_module()
        if self.emulator_host:
            import grpc

            transports = importlib.import_module("google.cloud.tasks_v2.services.cloud_tasks.transports")
            channel = grpc.insecure_channel(self.emulator_host)
            return tasks_v2.CloudTasksClient(transport=transports.CloudTasksGrpcTransport(channel=channel))
        return tasks_v2.CloudTasksClient()

    def _retry(self) -> Any:
        """Retry what is worth retrying, within our timeout: a named task makes a retried create safe (a create that
        did land comes back as AlreadyExists)."""
        from google.api_core import exceptions, retry

        predicate = retry.if_exception_type(exceptions.ServiceUnavailable, exceptions.DeadlineExceeded)
        return retry.Retry(predicate=predicate, initial=0.2, maximum=2.0, multiplier=2.0, timeout=self._timeout)


def _sdk_module() -> Any:
    """google.cloud.tasks_v2, loaded on first use (by name: its type stubs would hide google.cloud's other
    untyped packages from the type checker)."""
    return importlib.import_module("google.cloud.tasks_v2")
