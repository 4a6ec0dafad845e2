"""GitHubClient over GitHub's REST API with httpx (imported on first use). It keeps the rate limit GitHub reports: once
a response says no request is left, later calls raise RateLimited until the reset, without reaching GitHub.

Tokens only ever travel in the `Authorization` header of the call they were given for; no message, log line or error
carries one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shared.errors import RateLimited, Unavailable
from shared.ports import GitHubTokenRejected, RepositoryAccess

if TYPE_CHECKING:
    import httpx

API_VERSION = "2022-11-28"
_UNAVAILABLE = "GitHub's API is unavailable; try again shortly."


class HttpxGitHubClient:
    def __init__(
        self,
        base_url: str = "https://api.github.com",
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`token`: the job's own token (the stars job's budget); `transport`: httpx.MockTransport in unit tests."""
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._transport = transport
        self._clock = clock
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._spent_until = 0.0  # epoch seconds: the job's budget is spent until then

    # -- the port -------------------------------------------------------------------------------------------------
    def repository_access(self, token: str, owner: str, name: str) -> RepositoryAccess | None:
        user = self._get("/user", token, spends_budget=False)
        if user.status_code == 401:
            raise GitHubTokenRejected("GitHub refused the token")
        self._raise_for(user)
        login = str(user.json().get("login") or "")
        repo = self._get(f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}", token, spends_budget=False)
        if repo.status_code == 401:
            raise GitHubTokenRejected("GitHub refused the token")
        if repo.status_code in (403, 404) and self._wait_of(repo.headers) is None:
            return None  # missing, or hidden from this token (an organisation's SSO it has not been authorised for)
        self._raise_for(repo)
        rights = repo.json().get("permissions") or {}
        return RepositoryAccess(login=login, admin=bool(rights.get("admin")), push=bool(rights.get("push")))

    def stars(self, owner: str, name: str) -> int | None:
        self._check_budget()
        response = self._get(f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}", self._token, spends_budget=True)
        if response.status_code in (404, 451):  # gone, or blocked for legal reasons
            return None
        self._raise_for(response)
        return int(response.json().get("stargazers_count") or 0)

    # -- HTTP -----------------------------------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self._base, timeout=self._timeout, transport=self._transport, follow_redirects=True
                )
            return self._client

    def _get(self, path: str, token: str | None, *, spends_budget: bool) -> httpx.Response:
        import httpx

        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._http().get(path, headers=headers)
        except httpx.HTTPError:
            raise Unavailable(_UNAVAILABLE, code="github_unavailable") from None
        if spends_budget:
            self._note_budget(response.headers)
        return response

    def _check_budget(self) -> None:
        wait = self._spent_until - self._clock()
        if wait > 0:
            raise _rate_limited(wait)

    def _note_budget(self, headers: Mapping[str, str]) -> None:
        if headers.get("x-ratelimit-remaining") == "0" and (reset := _number(headers.get("x-ratelimit-reset"))):
            self._spent_until = max(self._spent_until, reset)

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in (403, 429) and (wait := self._wait_of(response.headers)) is not None:
            raise _rate_limited(wait)
        if status == 429 or status >= 500:
            raise Unavailable(_UNAVAILABLE, code="github_unavailable")
        if status >= 400:
            raise Unavailable(f"GitHub answered {status}", code="github_error")

    def _wait_of(self, headers: Mapping[str, str]) -> float | None:
        """Seconds to wait when the answer is a rate limit (primary: no request left; secondary: Retry-After)."""
        if (after := _number(headers.get("retry-after"))) is not None:
            return after
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _number(headers.get("x-ratelimit-reset"))
            return max(0.0, reset - self._clock()) if reset is not None else 60.0
        return None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _rate_limited(wait: float) -> RateLimited:
    seconds = max(1, int(wait + 0.999))
    return RateLimited(
        f"GitHub's API rate limit is spent; retry in {seconds} s.", retry_after=seconds, code="github_rate_limited"
    )
