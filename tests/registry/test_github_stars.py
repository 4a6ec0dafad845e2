"""POST /nodes/update-github-stars (Cloud Scheduler's job, as the scheduler's service account): each node's
`github_stars` from GitHub through the GitHubClient port (faked), in batches, oldest looked-at first, pausing while
GitHub's rate limit is spent; on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from shared.db.models import JobPause, Node
from shared.db.types import utcnow
from tests.registry.comfy_support import Catalog
from tests.registry.github_support import FakeGitHub
from tests.registry.oidc_support import ServiceAuth
from tests.support import RegistryClient

PATH = "/nodes/update-github-stars"


def _nodes(catalog: Catalog, repos: dict[str, str]) -> None:
    for node_id, url in repos.items():
        catalog.node(node_id)
        with catalog.api.container.sessions() as s:
            s.execute(update(Node).where(Node.id == node_id).values(repository_url=url))
            s.commit()


def _stars(api: RegistryClient) -> dict[str, int]:
    with api.container.sessions() as s:
        return {row.id: row.github_stars for row in s.execute(select(Node.id, Node.github_stars))}


def test_stars_are_stored_and_shown_on_the_node(api: RegistryClient, service: ServiceAuth, catalog: Catalog) -> None:
    _nodes(
        catalog, {"a": "https://github.com/o/a", "b": "https://github.com/o/b.git", "gone": "https://github.com/o/x"}
    )
    _nodes(catalog, {"elsewhere": "https://gitlab.com/o/c"})
    github = FakeGitHub(stars_of={"o/a": 12, "o/b": 7})
    api.use(github=github)
    r = api.post(PATH, headers=service.headers())
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"checked": 3, "updated": 2, "missing": 1, "failed": 0, "paused_until": None}
    assert _stars(api) == {"a": 12, "b": 7, "gone": 0, "elsewhere": 0}
    assert sorted(github.calls) == ["stars o/a", "stars o/b", "stars o/x"]  # GitLab is never asked of GitHub
    assert api.get("/nodes/a").get_json()["github_stars"] == 12


def test_batches_take_the_nodes_looked_at_longest_ago(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog
) -> None:
    _nodes(catalog, {f"n{i}": f"https://github.com/o/n{i}" for i in range(5)})
    github = FakeGitHub(stars_of={f"o/n{i}": i for i in range(5)})
    api.use(github=github)
    assert api.post(PATH, headers=service.headers(), query={"max_batch": 2}).get_json()["checked"] == 2
    assert api.post(PATH, headers=service.headers(), query={"max_batch": 2}).get_json()["checked"] == 2
    assert api.post(PATH, headers=service.headers(), query={"max_batch": 2}).get_json()["checked"] == 2
    # Five nodes in runs of two: every node was asked once before any was asked again.
    asked = [call.removeprefix("stars o/") for call in github.calls]
    assert sorted(asked[:5]) == [f"n{i}" for i in range(5)]
    assert _stars(api) == {f"n{i}": i for i in range(5)}


def test_a_spent_rate_limit_pauses_the_job_until_the_reset_and_the_next_run_goes_on(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog
) -> None:
    _nodes(catalog, {f"n{i}": f"https://github.com/o/n{i}" for i in range(4)})
    github = FakeGitHub(stars_of={f"o/n{i}": 100 + i for i in range(4)}, budget=2, retry_after=600)
    api.use(github=github)
    first = api.post(PATH, headers=service.headers()).get_json()
    assert (first["checked"], first["updated"]) == (2, 2)
    assert first["paused_until"] is not None
    # Before the reset a run asks GitHub nothing.
    calls = len(github.calls)
    again = api.post(PATH, headers=service.headers()).get_json()
    assert again == {"checked": 0, "updated": 0, "missing": 0, "failed": 0, "paused_until": first["paused_until"]}
    assert len(github.calls) == calls
    # After it (the pause moved into the past), the next run takes the two nodes not yet looked at.
    with api.container.sessions() as s:
        s.execute(update(JobPause).values(until=utcnow() - timedelta(seconds=1)))
        s.commit()
    github.budget = 10
    last = api.post(PATH, headers=service.headers(), query={"max_batch": 2}).get_json()
    assert (last["checked"], last["paused_until"]) == (2, None)
    assert _stars(api) == {"n0": 100, "n1": 101, "n2": 102, "n3": 103}
    with api.container.sessions() as s:
        assert s.scalars(select(JobPause)).all() == []


def test_github_failing_skips_those_nodes_and_a_run_of_failures_ends_the_run(
    api: RegistryClient, service: ServiceAuth, catalog: Catalog
) -> None:
    _nodes(catalog, {f"n{i}": f"https://github.com/o/n{i}" for i in range(6)})
    github = FakeGitHub(stars_of={f"o/n{i}": 5 for i in range(6)}, failing={"o/n0"})
    api.use(github=github)
    run = api.post(PATH, headers=service.headers()).get_json()
    assert (run["checked"], run["updated"], run["failed"]) == (6, 5, 1)
    github.down = True
    calls = len(github.calls)
    run = api.post(PATH, headers=service.headers()).get_json()
    assert (run["checked"], run["failed"]) == (3, 3)  # three failures in a row: the run stops
    assert len(github.calls) == calls + 3
    assert set(_stars(api).values()) == {0, 5}


def test_only_the_scheduler_may_run_it(api: RegistryClient, service: ServiceAuth, catalog: Catalog) -> None:
    _nodes(catalog, {"a": "https://github.com/o/a"})
    github = FakeGitHub(stars_of={"o/a": 1})
    api.use(github=github)
    assert api.post(PATH).status_code == 401
    assert api.post(PATH, as_="alice", admin=True).status_code == 401
    assert (
        api.post(PATH, headers=service.headers("intruder@demo-comfy-registry.iam.gserviceaccount.com")).status_code
        == 403
    )
    for bad in (0, 1001, "x"):
        assert api.post(PATH, headers=service.headers(), query={"max_batch": bad}).status_code == 400
    assert github.calls == []
