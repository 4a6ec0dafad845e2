"""The GitHubClient adapter over httpx, against httpx.MockTransport (GitHub's answers as its REST API documents them):
what each answer becomes, the rate limit kept between calls, and the token never leaving the header it was given for."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shared.adapters.github_rest import HttpxGitHubClient
from shared.errors import RateLimited, Unavailable
from shared.ports import GitHubTokenRejected, RepositoryAccess

NOW = 1_800_000_000.0
TOKEN = "ghp_users-own-token"


def client(handler: Callable[[httpx.Request], httpx.Response], token: str | None = "job-token") -> HttpxGitHubClient:  # noqa: S107
    return HttpxGitHubClient(
        "https://api.github.test", token, transport=httpx.MockTransport(handler), clock=lambda: NOW
    )


def test_stars_reads_the_stargazers_with_the_job_s_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"stargazers_count": 321}, headers={"x-ratelimit-remaining": "4999"})

    assert client(handler).stars("comfy", "pack") == 321
    assert seen[0].url.path == "/repos/comfy/pack"
    assert seen[0].headers["Authorization"] == "Bearer job-token"
    assert seen[0].headers["X-GitHub-Api-Version"] == "2022-11-28"


def test_without_a_token_no_authorization_is_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "Authorization" not in request.headers
        return httpx.Response(200, json={"stargazers_count": 1})

    assert client(handler, token=None).stars("o", "r") == 1


@pytest.mark.parametrize("status", [404, 451])
def test_a_missing_repository_has_no_stars(status: int) -> None:
    assert client(lambda r: httpx.Response(status, json={"message": "Not Found"})).stars("o", "gone") is None


def test_a_spent_budget_stops_later_calls_until_the_reset_without_asking_github() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 900))}
        return httpx.Response(200, json={"stargazers_count": 5}, headers=headers)

    github = client(handler)
    assert github.stars("o", "last") == 5
    with pytest.raises(RateLimited) as caught:
        github.stars("o", "next")
    assert caught.value.retry_after == 900
    assert calls == ["/repos/o/last"]


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 120))}, 120),
        (429, {"retry-after": "30"}, 30),
        (403, {"retry-after": "61"}, 61),  # a secondary rate limit
    ],
)
def test_rate_limit_answers_say_how_long_to_wait(status: int, headers: dict[str, str], wait: int) -> None:
    with pytest.raises(RateLimited) as caught:
        client(lambda r: httpx.Response(status, headers=headers)).stars("o", "r")
    assert caught.value.retry_after == wait


@pytest.mark.parametrize("status", [500, 502, 429])
def test_github_failing_is_unavailable(status: int) -> None:
    with pytest.raises(Unavailable):
        client(lambda r: httpx.Response(status)).stars("o", "r")


def test_github_unreachable_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Unavailable):
        client(handler).stars("o", "r")


def _user_and_repo(repo: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"  # the user's token, not the job's
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "alice"})
        assert request.url.path == "/repos/alice/pack"
        return repo

    return handler


def test_repository_access_reads_the_user_s_rights() -> None:
    repo = httpx.Response(200, json={"permissions": {"admin": False, "push": True, "pull": True}})
    assert client(_user_and_repo(repo)).repository_access(TOKEN, "alice", "pack") == RepositoryAccess(
        "alice", admin=False, push=True
    )


@pytest.mark.parametrize("status", [403, 404])
def test_a_repository_the_token_cannot_see_is_none(status: int) -> None:
    assert client(_user_and_repo(httpx.Response(status))).repository_access(TOKEN, "alice", "pack") is None


def test_a_refused_token_is_rejected_and_never_in_the_error() -> None:
    with pytest.raises(GitHubTokenRejected) as caught:
        client(lambda r: httpx.Response(401, json={"message": "Bad credentials"})).repository_access(TOKEN, "a", "b")
    assert TOKEN not in str(caught.value)


def test_the_user_s_rate_limit_is_429_for_the_caller() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 60))}
    with pytest.raises(RateLimited):
        client(lambda r: httpx.Response(403, headers=headers)).repository_access(TOKEN, "a", "b")
