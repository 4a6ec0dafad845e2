"""POST /publishers/{p}/nodes/{n}/claim-my-node: a publisher takes over an unclaimed node by proving, with a GitHub
token, that its user may push to the node's repository (GitHub faked behind the GitHubClient port); both databases."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from functions.registry.publishing.usecases.claims import UNCLAIMED_PUBLISHER_ID
from shared import naming
from shared.db.models import AuditEntry, Node, OutboxEvent, Publisher
from tests.registry.github_support import FakeGitHub
from tests.support import RegistryClient

TOKEN = "ghp_alices-secret-token-0123456789"
REPO = "https://github.com/alice/comfy-pack"


@pytest.fixture
def world(api: RegistryClient) -> FakeGitHub:
    """alice owns alice-pub; `pack` (repository alice/comfy-pack) is unclaimed; bob owns bob-pub and `bobs`."""
    api.create_publisher("alice", "alice-pub")
    api.create_publisher("bob", "bob-pub")
    with api.container.sessions() as s:
        s.add(Publisher(id=UNCLAIMED_PUBLISHER_ID, name="Unclaimed"))
        s.flush()
        for node_id, owner, status in (("pack", UNCLAIMED_PUBLISHER_ID, "active"), ("bobs", "bob-pub", "active")):
            s.add(
                Node(
                    id=node_id,
                    normalized_id=naming.fold(node_id),
                    publisher_id=owner,
                    name=node_id,
                    repository_url=REPO,
                    status=status,
                )
            )
        s.add(
            Node(
                id="banned",
                normalized_id="banned",
                publisher_id=UNCLAIMED_PUBLISHER_ID,
                name="b",
                repository_url=REPO,
                status="banned",
            )
        )
        s.add(
            Node(
                id="gitlab",
                normalized_id="gitlab",
                publisher_id=UNCLAIMED_PUBLISHER_ID,
                name="g",
                repository_url="https://gitlab.com/alice/pack",
            )
        )
        s.commit()
    github = FakeGitHub(
        stars_of={"alice/comfy-pack": 3},
        users={TOKEN: ("alice-gh", {"alice/comfy-pack": "push"}), "reader": ("carol", {"alice/comfy-pack": "pull"})},
    )
    api.use(github=github)
    return github


def _claim(
    api: RegistryClient,
    node_id: str = "pack",
    *,
    as_: str | None = "alice",
    token: object = TOKEN,
    publisher: str = "alice-pub",
) -> TestResponse:
    return api.post(f"/publishers/{publisher}/nodes/{node_id}/claim-my-node", as_=as_, json_body={"GH_TOKEN": token})


def _owner(api: RegistryClient, node_id: str) -> str:
    with api.container.sessions() as s:
        return str(s.scalar(select(Node.publisher_id).where(Node.id == node_id)))


def test_a_publisher_with_push_rights_claims_an_unclaimed_node(
    api: RegistryClient, world: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = _claim(api)
    assert r.status_code == 204, r.get_data(as_text=True)
    assert _owner(api, "pack") == "alice-pub"
    assert world.calls == ["access alice/comfy-pack"]
    assert [n["id"] for n in api.get("/publishers/alice-pub/nodes").get_json()] == ["pack"]
    with api.container.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "node.claim")).one()
        assert (audit.target_id, audit.details) == ("pack", {"publisher_id": "alice-pub", "github_user": "alice-gh"})
        assert s.scalars(select(OutboxEvent.type).where(OutboxEvent.type == "node.updated")).all()
        stored = " ".join(str(v) for row in s.execute(select(AuditEntry.details, AuditEntry.reason)) for v in row)
    assert TOKEN not in stored and TOKEN not in caplog.text  # never kept, never logged
    # Claiming it again is success and asks GitHub nothing.
    assert _claim(api).status_code == 204
    assert world.calls == ["access alice/comfy-pack"]


@pytest.mark.parametrize(
    ("token", "code"),
    [("nonsense", "invalid_gh_token"), ("reader", "not_repository_owner")],
)
def test_a_token_that_does_not_prove_ownership_is_refused(
    api: RegistryClient, world: FakeGitHub, token: str, code: str
) -> None:
    r = _claim(api, token=token)
    assert r.status_code == 403 and r.get_json()["error"] == code
    assert token not in r.get_data(as_text=True)
    assert _owner(api, "pack") == UNCLAIMED_PUBLISHER_ID


def test_a_repository_the_token_cannot_see_is_refused(api: RegistryClient, world: FakeGitHub) -> None:
    world.users["other"] = ("dave", {})
    world.stars_of.clear()
    r = _claim(api, token="other")
    assert r.status_code == 403 and r.get_json()["error"] == "not_repository_owner"


def test_only_unclaimed_nodes_of_github_repositories_can_be_claimed(api: RegistryClient, world: FakeGitHub) -> None:
    r = _claim(api, "bobs")
    assert r.status_code == 403 and r.get_json()["error"] == "node_already_claimed"
    assert _claim(api, "banned").status_code == 403
    assert _claim(api, "missing").status_code == 404
    r = _claim(api, "gitlab")
    assert r.status_code == 400 and r.get_json()["error"] == "not_on_github"
    assert world.calls == []
    assert _owner(api, "bobs") == "bob-pub"


def test_the_caller_must_own_the_publisher(api: RegistryClient, world: FakeGitHub) -> None:
    assert _claim(api, as_=None).status_code == 401
    assert _claim(api, as_="bob").status_code == 403  # bob does not own alice-pub
    assert _claim(api, as_="alice", publisher="nobody-pub").status_code == 404
    assert world.calls == []
    assert _owner(api, "pack") == UNCLAIMED_PUBLISHER_ID


@pytest.mark.parametrize("body", [{}, {"GH_TOKEN": ""}, {"GH_TOKEN": 5}, {"GH_TOKEN": "x" * 1025}])
def test_a_missing_or_malformed_token_is_a_400(api: RegistryClient, world: FakeGitHub, body: dict[str, object]) -> None:
    r = api.post("/publishers/alice-pub/nodes/pack/claim-my-node", as_="alice", json_body=body)
    assert r.status_code == 400
    assert world.calls == []


def test_github_rate_limited_or_down_is_429_or_503(api: RegistryClient, world: FakeGitHub) -> None:
    world.budget = 0
    r = _claim(api)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1800"
    world.budget, world.down = None, True
    assert _claim(api).status_code == 503
    assert _owner(api, "pack") == UNCLAIMED_PUBLISHER_ID
