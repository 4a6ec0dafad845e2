"""Who may call each mutating endpoint: one table, one row per POST/PUT/DELETE route of the registry.

The rows are checked against every area's routes (functions/registry/*/routes.py): a new mutating route without a
row fails here. Every
row names every kind of caller, as allowed (with the success status), refused (with the status), or not applicable
(with why). Refused callers go first, on a fresh world, and each must leave every table exactly as it was (row count
and a hash of its contents); then each allowed caller must succeed.

On PostgreSQL each function runs as its own database role (tests/registry/conftest.py): every allowed call of every
mutating route also proves its function's grants suffice."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from functions.registry.app import all_routes
from functions.registry.publishing.usecases.claims import UNCLAIMED_PUBLISHER_ID
from shared import naming, version_numbers
from shared.auth import secrets
from shared.db.models import ComfyNode, Node, NodeVersion, PersonalAccessToken, Publisher, PublisherPermission, User
from shared.db.types import utcnow
from shared.http.router import Route
from shared.statuses import VersionStatus
from tests.fuzz.seed import ci_run
from tests.matrix import Access, Call, Row, check_row, rows_name_every_caller
from tests.registry.github_support import FakeGitHub
from tests.registry.oidc_support import ServiceAuth
from tests.registry.release_support import release_payload, signed
from tests.support import RegistryClient

MUTATING = [r for r in all_routes() if r.method in ("POST", "PUT", "DELETE", "PATCH")]
INTRUDER = "intruder@demo-comfy-registry.iam.gserviceaccount.com"


class Caller(Enum):
    ANONYMOUS = "anonymous"
    OTHER_USER = "other user"
    MEMBER = "member"
    OWNER = "owner"
    ADMIN_CLAIM = "admin (custom claim)"
    ADMIN_DB = "admin (users.is_admin)"
    BANNED_USER = "banned user"
    EXPIRED_TOKEN = "expired personal access token"
    OTHER_PUBLISHER_TOKEN = "token of another publisher"
    SERVICE = "allowed service account"
    OTHER_SERVICE = "service account not allowed"


C = Caller
# The Firebase uid of each person; the banned user owns the publisher and is an admin in the database, so that only
# the ban can be what refuses them.
UIDS = {C.OTHER_USER: "stranger", C.MEMBER: "member", C.OWNER: "owner", C.ADMIN_CLAIM: "root", C.ADMIN_DB: "dbadmin"}
UIDS[C.BANNED_USER] = "banned"
PEOPLE = tuple(UIDS)
TOKENS_ONLY = "a personal access token authenticates the publish call only"


@dataclass
class World:
    version_id: str = ""
    owner_token_id: str = ""
    tokens: dict[Caller, str] = field(default_factory=dict)


NOT_PUBLISHING = {C.EXPIRED_TOKEN: TOKENS_ONLY, C.OTHER_PUBLISHER_TOKEN: TOKENS_ONLY}


def people(success: int, *allowed: Caller) -> Access[Caller]:
    """A Firebase-authenticated endpoint: the `allowed` people succeed, other people get 403, no login 401."""
    refused: dict[Caller, int] = {c: 403 for c in PEOPLE if c not in allowed}
    refused.update({C.ANONYMOUS: 401, C.SERVICE: 401, C.OTHER_SERVICE: 401})
    return Access({c: success for c in allowed}, refused, NOT_PUBLISHING)


def services(success: int, *, people_status: int = 401) -> Access[Caller]:
    """A service-account endpoint: only the allowed Google service account succeeds."""
    refused: dict[Caller, int] = {c: people_status for c in PEOPLE}
    refused.update({C.ANONYMOUS: 401, C.OTHER_SERVICE: 403})
    return Access({C.SERVICE: success}, refused, NOT_PUBLISHING)


ADMINS = (C.ADMIN_CLAIM, C.ADMIN_DB)
EVERYONE_ELSE = (C.OTHER_USER, C.MEMBER, C.OWNER, *ADMINS)
PAT_ONLY = "publishing authenticates by the personal access token in the body alone"
VERSIONS = "/publishers/pub/nodes/node/versions"


def publish_body(world: World, caller: Caller) -> dict[str, Any]:
    return {
        "personal_access_token": world.tokens.get(caller, "cpat_not-a-real-token"),
        "node": {"id": "node", "name": "Node"},
        "node_version": {"version": "2.0.0"},
    }


def release_delivery(world: World, caller: Caller) -> Call:
    """GitHub's signed delivery for the anonymous caller (the signature is its only credential); the same body
    unsigned, with their own credentials, for everyone else."""
    payload = release_payload("v9.9.9")
    raw, headers = signed(payload)
    if caller is not C.ANONYMOUS:
        del headers["X-Hub-Signature-256"]
    assert raw == json.dumps(payload).encode()  # what api.call sends for json_body
    return Call("/releases", payload, headers={k: v for k, v in headers.items() if k != "Content-Type"})


def _slug(caller: Caller) -> str:
    return caller.name.lower().replace("_", "-")


MATRIX: dict[str, Row[World, Caller]] = {
    "createPublisher": Row(
        lambda w, c: Call("/publishers", {"id": f"new-{_slug(c)}", "name": "New"}), people(201, *EVERYONE_ELSE)
    ),
    "updatePublisher": Row(lambda w, c: Call("/publishers/pub", {"description": "edited"}), people(200, C.OWNER)),
    "deletePublisher": Row(lambda w, c: Call("/publishers/spare"), people(204, C.OWNER)),
    "createPersonalAccessToken": Row(lambda w, c: Call("/publishers/pub/tokens", {"name": "ci"}), people(201, C.OWNER)),
    "deletePersonalAccessToken": Row(
        lambda w, c: Call(f"/publishers/pub/tokens/{w.owner_token_id}"), people(204, C.OWNER)
    ),
    "createNode": Row(lambda w, c: Call("/publishers/pub/nodes", {"id": "fresh-node"}), people(201, C.OWNER)),
    "updateNode": Row(lambda w, c: Call("/publishers/pub/nodes/node", {"description": "x"}), people(200, C.OWNER)),
    "deleteNode": Row(lambda w, c: Call("/publishers/pub/nodes/node"), people(204, C.OWNER)),
    "publishNodeVersion": Row(
        lambda w, c: Call(VERSIONS, publish_body(w, c)),
        Access(
            allowed={C.OWNER: 201},
            refused={C.ANONYMOUS: 400, C.BANNED_USER: 403, C.EXPIRED_TOKEN: 400, C.OTHER_PUBLISHER_TOKEN: 400},
            not_applicable={c: PAT_ONLY for c in (C.OTHER_USER, C.MEMBER, *ADMINS, C.SERVICE, C.OTHER_SERVICE)},
        ),
    ),
    "updateNodeVersion": Row(lambda w, c: Call(f"{VERSIONS}/{w.version_id}", {"changelog": "x"}), people(200, C.OWNER)),
    "deleteNodeVersion": Row(lambda w, c: Call(f"{VERSIONS}/{w.version_id}"), people(204, C.OWNER)),
    "postNodeReview": Row(lambda w, c: Call("/nodes/node/reviews", query={"star": 4}), people(200, *EVERYONE_ELSE)),
    "CreateNodeTranslations": Row(
        lambda w, c: Call("/nodes/node/translations", {"data": {"fr": {"name": "Noeud"}}}),
        people(201, C.OWNER, *ADMINS),
    ),
    "getBulkNodeVersions": Row(
        lambda w, c: Call("/bulk/nodes/versions", {"node_versions": [{"node_id": "node", "version": "1.0.0"}]}),
        Access({c: 200 for c in (C.ANONYMOUS, *PEOPLE, C.SERVICE, C.OTHER_SERVICE)}, {}, NOT_PUBLISHING),
        mutates=False,
    ),
    "BanPublisher": Row(lambda w, c: Call("/publishers/pub/ban", {"reason": "spam"}), people(204, *ADMINS)),
    "UnbanPublisher": Row(lambda w, c: Call("/publishers/pub/unban", {"reason": "ok"}), people(204, *ADMINS)),
    "BanPublisherNode": Row(lambda w, c: Call("/publishers/pub/nodes/node/ban", {}), people(204, *ADMINS)),
    "UnbanPublisherNode": Row(lambda w, c: Call("/publishers/pub/nodes/banned-node/unban", {}), people(204, *ADMINS)),
    "adminUpdateNodeVersion": Row(
        lambda w, c: Call("/admin/nodes/node/versions/1.0.0", {"status": "NodeVersionStatusActive"}),
        people(200, *ADMINS),
    ),
    "adminCreateNode": Row(
        lambda w, c: Call("/admin/nodes", {"id": f"admin-{_slug(c)}", "publisher_id": "pub"}), people(201, *ADMINS)
    ),
    "adminUpdateNode": Row(lambda w, c: Call("/admin/nodes/node", {"description": "x"}), people(200, *ADMINS)),
    "CreateComfyNodes": Row(
        lambda w, c: Call("/nodes/node/versions/1.1.0/comfy-nodes", {"success": True, "nodes": {"Found": {}}}),
        services(204),
    ),
    "UpdateComfyNode": Row(
        lambda w, c: Call("/nodes/node/versions/1.0.0/comfy-nodes/Hello", {"description": "d"}),
        people(200, C.OWNER, *ADMINS),
    ),
    # People may read CI results but not upload them: a person's login is known, and refused with 403.
    "postUploadArtifact": Row(lambda w, c: Call("/upload-artifact", ci_run()), services(200, people_status=403)),
    "reindexNodes": Row(lambda w, c: Call("/nodes/reindex"), services(202)),
    "UpdateGithubStars": Row(lambda w, c: Call("/nodes/update-github-stars"), services(200)),
    "ClaimMyNode": Row(
        lambda w, c: Call("/publishers/pub/nodes/unclaimed/claim-my-node", {"GH_TOKEN": "gh-token"}),
        people(204, C.OWNER),
    ),
    "ProcessReleaseWebhook": Row(
        release_delivery,
        Access({C.ANONYMOUS: 200}, {c: 401 for c in (*PEOPLE, C.SERVICE, C.OTHER_SERVICE)}, NOT_PUBLISHING),
    ),
    "ComfyNodesBackfill": Row(lambda w, c: Call("/comfy-nodes/backfill"), services(200)),
}


# -- the world every row starts from ------------------------------------------------------------------------------
def _token_id(api: RegistryClient, value: str) -> str:
    with api.container.sessions() as s:
        found = s.scalar(
            select(PersonalAccessToken.id).where(PersonalAccessToken.token_digest == secrets.digest(value))
        )
    assert found is not None
    return found


def build_world(api: RegistryClient) -> World:
    """pub (owner; member as member; banned as owner) with node `node` (1.0.0 active with the node class Hello,
    1.1.0 pending) and `banned-node`; spare (same people, no nodes); elsewhere (the other user's)."""
    world = World()
    for uid in ("member", "banned", "dbadmin"):
        assert api.get("/users", as_=uid).status_code == 200
    for publisher_id in ("pub", "spare"):
        api.create_publisher("owner", publisher_id)
    api.create_publisher("stranger", "elsewhere")
    with api.container.sessions() as s:
        for publisher_id in ("pub", "spare"):
            s.add(PublisherPermission(publisher_id=publisher_id, user_id="member", permission="member"))
            s.add(PublisherPermission(publisher_id=publisher_id, user_id="banned", permission="owner"))
        s.commit()
    world.tokens[C.OWNER] = api.create_token("owner", "pub")
    world.tokens[C.BANNED_USER] = api.create_token("banned", "pub")  # made before the ban
    world.tokens[C.EXPIRED_TOKEN] = api.create_token("owner", "pub", expires_in_days=1)
    world.tokens[C.OTHER_PUBLISHER_TOKEN] = api.create_token("stranger", "elsewhere")
    world.owner_token_id = _token_id(api, world.tokens[C.OWNER])
    api.use(github=FakeGitHub(stars_of={"o/unclaimed": 42}, users={"gh-token": ("owner-gh", {"o/unclaimed": "push"})}))
    expired_id = _token_id(api, world.tokens[C.EXPIRED_TOKEN])
    with api.container.sessions() as s:
        s.execute(update(User).where(User.id == "banned").values(status="banned", is_admin=True))
        s.execute(update(User).where(User.id == "dbadmin").values(is_admin=True))
        s.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == expired_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        for node_id, status in (("node", "active"), ("banned-node", "banned")):
            s.add(Node(id=node_id, normalized_id=naming.fold(node_id), publisher_id="pub", name=node_id, status=status))
        # A node nobody has claimed yet, whose repository the owner's GitHub user may push to.
        s.add(Publisher(id=UNCLAIMED_PUBLISHER_ID, name="Unclaimed"))
        s.flush()
        s.add(
            Node(
                id="unclaimed",
                normalized_id="unclaimed",
                publisher_id=UNCLAIMED_PUBLISHER_ID,
                name="unclaimed",
                repository_url="https://github.com/o/unclaimed",
            )
        )
        s.flush()
        active = _version(s, "1.0.0", VersionStatus.ACTIVE, "success")
        _version(s, "1.1.0", VersionStatus.PENDING, "pending")
        s.add(ComfyNode(node_version_id=active.id, name="Hello", output_is_list=[]))
        s.commit()
        world.version_id = active.id
    return world


def _version(s: Any, version: str, status: str, extract: str) -> NodeVersion:
    row = NodeVersion(
        node_id="node",
        version=version,
        sort_key=version_numbers.sort_key(version),
        status=status,
        storage_path=f"pub/node/{version}/upload/node.zip",
        release_path=f"pub/node/{version}/node.zip" if status == VersionStatus.ACTIVE else None,
        comfy_node_extract_status=extract,
    )
    s.add(row)
    s.flush()
    return row


def send(api: RegistryClient, service: ServiceAuth, route: Route, call: Call, caller: Caller) -> TestResponse:
    kw: dict[str, Any] = {"json_body": call.json_body, "query": call.query, "headers": dict(call.headers or {})}
    if caller in UIDS:
        kw.update(as_=UIDS[caller], admin=caller is C.ADMIN_CLAIM)
    elif caller is C.SERVICE:
        kw["headers"].update(service.headers())
    elif caller is C.OTHER_SERVICE:
        kw["headers"].update(service.headers(INTRUDER))
    return api.call(route.method, call.path, **kw)


# -- the tests ----------------------------------------------------------------------------------------------------
def test_every_row_is_a_mutating_route_and_names_every_caller() -> None:
    rows_name_every_caller(MATRIX, Caller, {r.operation_id for r in MUTATING})


@pytest.mark.parametrize("route", MUTATING, ids=lambda r: f"{r.method} {r.path}")
def test_only_allowed_callers_pass_and_refusals_change_nothing(
    api: RegistryClient, service: ServiceAuth, route: Route
) -> None:
    world = build_world(api)
    row = MATRIX.get(route.operation_id)
    check_row(api, all_routes(), route, row, world, lambda call, caller: send(api, service, route, call, caller))
