"""A GitHubClient for the tests: repositories with their stars and, per token, the user and their rights; it
records every call, and can be told to run out of budget after some calls or to fail for some repositories."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.errors import RateLimited, Unavailable
from shared.ports import GitHubTokenRejected, RepositoryAccess


@dataclass
class FakeGitHub:
    stars_of: dict[str, int] = field(default_factory=dict)  # "owner/name" -> stargazers
    # token -> (login, {"owner/name": "admin" | "push" | "pull"})
    users: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    budget: int | None = None  # star lookups left before the rate limit is spent (None: unlimited)
    retry_after: int = 1800
    failing: set[str] = field(default_factory=set)  # repositories whose lookups fail (GitHub's 5xx)
    down: bool = False  # every call fails as if GitHub were unreachable
    calls: list[str] = field(default_factory=list)

    def repository_access(self, token: str, owner: str, name: str) -> RepositoryAccess | None:
        self.calls.append(f"access {owner}/{name}")
        if self.down:
            raise Unavailable("GitHub's API is unavailable; try again shortly.", code="github_unavailable")
        if self.budget is not None and self.budget <= 0:
            raise RateLimited(
                "GitHub's API rate limit is spent", retry_after=self.retry_after, code="github_rate_limited"
            )
        if token not in self.users:
            raise GitHubTokenRejected("GitHub refused the token")
        login, rights = self.users[token]
        repo = f"{owner}/{name}".lower()
        found = {k.lower(): v for k, v in rights.items()}.get(repo)
        if found is None and repo not in {k.lower() for k in self.stars_of}:
            return None
        return RepositoryAccess(login=login, admin=found == "admin", push=found in ("admin", "push"))

    def stars(self, owner: str, name: str) -> int | None:
        repo = f"{owner}/{name}"
        self.calls.append(f"stars {repo}")
        if self.budget is not None:
            if self.budget <= 0:
                raise RateLimited("GitHub's API rate limit is spent", retry_after=self.retry_after)
            self.budget -= 1
        if self.down or repo in self.failing:
            raise Unavailable("GitHub's API is unavailable; try again shortly.", code="github_unavailable")
        return self.stars_of.get(repo)
