"""What the fake partners remember: requests received, jobs and how far each has gone, the failures asked for."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    partner: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Job:
    id: str
    partner: str
    kind: str  # "video", "image", "model", "audio"
    fails: bool = False
    polls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    mode: str  # "500" (JSON), "html" (an HTML 500 page), "429", "hang", "reset"
    times: int = 1
    retry_after: int = 1


class State:
    def __init__(self, polls_to_finish: int = 2) -> None:
        self.polls_to_finish = polls_to_finish
        self.received: list[Received] = []
        self.jobs: dict[str, Job] = {}
        self.trace_ids: set[str] = set()
        self.failures: dict[str, Failure] = {}
        # When set, a stream waits on it before its last event (tests see what arrived before the partner finished).
        self.stream_gate: threading.Event | None = None
        self.streams_finished = 0
        self.lock = threading.Lock()

    def record(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def new_job(self, partner: str, kind: str, fails: bool = False, *, numeric: bool = False, **extra: Any) -> Job:
        name = str(uuid.uuid4().int % 10**12) if numeric else f"{partner}-{uuid.uuid4().hex[:12]}"
        job = Job(name, partner, kind, fails, extra=extra)
        with self.lock:
            self.jobs[job.id] = job
        return job

    def poll(self, job_id: str) -> tuple[Job | None, str]:
        """The job and its stage after this poll: "queued", "running" or "done" (its outcome is `job.fails`)."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None, ""
            job.polls += 1
            if job.polls >= self.polls_to_finish:
                return job, "done"
            return job, "queued" if job.polls == 1 else "running"

    def take_failure(self, partner: str) -> Failure | None:
        with self.lock:
            failure = self.failures.get(partner)
            if failure is None:
                return None
            failure.times -= 1
            if failure.times <= 0:
                del self.failures[partner]
            return failure
