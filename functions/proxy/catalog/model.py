"""The shape of the partner catalog: a partner (where it lives, how its credential goes in) and its operations (what
a path does: a synchronous call, a job's submit, a poll of that job, a read of its result, or a free helper call).
The data is in `partners`; price rules in `prices`; status words in `statuses`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol

# The request field under which a price rule finds our path's own values (`{model_id}`): set by the gateway over
# anything of that name in the caller's body, so a caller cannot pick its price.
PATH_VALUES = "@path"


class Role(StrEnum):
    SYNC = "sync"  # the answer is the result: charged when it succeeds
    SUBMIT = "submit"  # the answer names a job: its hold waits for the job's end
    POLL = "poll"  # reads a job's state: only its owner may; the first terminal state settles it
    FETCH = "fetch"  # reads a finished job's output: only its owner may; free
    FREE = "free"  # a helper call (an upload, a list of presets): authenticated, free


class Auth(StrEnum):
    BEARER = "bearer"  # Authorization: Bearer <credential>
    HEADER = "header"  # <auth_header>: <credential>
    KLING_JWT = "kling_jwt"  # Authorization: Bearer <HS256 JWT minted from ACCESS:SECRET>
    TC3 = "tc3"  # Tencent Cloud's TC3-HMAC-SHA256 signature of SECRET_ID:SECRET_KEY (signed by the transport)
    GOOGLE = "google"  # Bearer <OAuth2 access token minted from a service-account JSON key> (by the transport)
    NONE = "none"  # answered by the gateway itself


class PriceRule(Protocol):
    """Micro-USD: `estimate` from the request's fields before the call (the hold), `actual` from the partner's answer
    (None: the estimate is the price)."""

    def estimate(self, fields: Mapping[str, Any]) -> int: ...

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None: ...


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # after /proxy/<partner>; `{name}` is one segment
    role: Role
    price: PriceRule | None = None  # SYNC and SUBMIT
    job_id: str = (
        ""  # SUBMIT: the id's dotted path in the answer; POLL/FETCH: `path:<name>`, `query:<name>`, `body:<f>`
    )
    status: str = ""  # SUBMIT/POLL: the status's dotted path in the answer
    poll: str = ""  # SUBMIT: the path that reads the job (`{id}` for its id), for proxy-job-settle to follow it
    poll_method: str = "GET"  # SUBMIT: POST for a partner polled with the id in a JSON body
    poll_field: str = ""  # SUBMIT with a POST poll: the body field that carries the id
    done: frozenset[str] = frozenset()  # extra status words for success (lower case), beyond statuses.DONE
    failed: frozenset[str] = frozenset()  # extra words for failure, beyond statuses.FAILED
    pending_codes: frozenset[int] = frozenset()  # answer codes that mean "still running" (202)
    submit_headers: Mapping[str, str] = field(default_factory=dict)  # sent upstream on this operation only
    timeout_seconds: float | None = None  # replaces the partner's
    upstream: str = ""  # the partner's own path where it differs from ours (`{name}` from our path)
    default_accept: str = ""  # asked of the partner when the caller accepts anything (Reve: image bytes)
    failure: str = ""  # SUBMIT/POLL: an answer field whose presence means the job failed (Veo's `error`)
    output: str = ""  # SUBMIT/POLL: where a finished job's output is; finished without one, it failed
    aliases: tuple[str, ...] = ()  # SUBMIT/POLL: answer fields naming the job otherwise (Rodin's task `uuid`)
    alias_pattern: str = ""  # SUBMIT/POLL: a regex whose group 1, anywhere in the answer, also names the job
    id_suffix: str = ""  # POLL/FETCH: a suffix the caller may put after the id, not part of it (`:download`)

    def upstream_path(self, path: str) -> str:
        if not self.upstream:
            return path
        found = self.pattern.fullmatch(path)
        return self.upstream.format(**(found.groupdict() if found else {}))

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[a-z_]+\})", self.path)
        regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(regex + r"/?")

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Refused:
    """A path of the live spec that the gateway does not forward, with the reason (answered 404 route_not_found)."""

    method: str
    path: str
    reason: str


@dataclass(frozen=True)
class Partner:
    name: str
    base_url: str
    auth: Auth
    operations: tuple[Operation, ...]
    auth_header: str = ""  # Auth.HEADER
    auth_prefix: str = ""  # Auth.HEADER: the scheme before the credential (Vidu's `Token `, fal's `Key `)
    extra_headers: Mapping[str, str] = field(default_factory=dict)  # on every call (Runway's API version)
    trace_header: str = ""  # a fresh UUID per call under this name (PixVerse's Ai-trace-id)
    refused: tuple[Refused, ...] = ()
    timeout_seconds: float = 120.0
    absolute_polling: bool = False  # the submit answers a `polling_url` the gateway rewrites to itself
    jobs_of: str = ""  # another partner whose submits this one polls (BytePlus Seedance 2.0 polls `byteplus` jobs)
    error_field: str = ""  # a 2xx answer carrying this field is the partner's refusal (Tencent's `Response.Error`)
    signing_service: str = ""  # Auth.TC3: the service named in the signature's scope

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method == method:
                found = op.pattern.fullmatch(path)
                if found:
                    return op, found.groupdict()
        return None
