"""claim-my-node: a publisher takes over a node nobody has claimed (one the registry's admins created for a pack
before its author joined) by proving, with a GitHub token, that its user may push to the node's repository.

The token is handed to the GitHub port for this one check and dropped: it is never stored, logged or echoed."""

from __future__ import annotations

from functions.registry.common.access import owned_publisher
from functions.registry.common.github import repository_of
from shared.auth.identity import Identity
from shared.db.models import Node
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.events import AuditAction, EventType
from shared.ports import GitHubClient, GitHubTokenRejected
from shared.statuses import NodeStatus
from shared.uow import UnitOfWork

# The publisher that holds unclaimed nodes (the id the registry web app and the old service both use).
UNCLAIMED_PUBLISHER_ID = "admin-11338bd3-f081-43cf-b3f9-295c829826f7"


def claim(
    uow: UnitOfWork, github: GitHubClient, identity: Identity, publisher_id: str, node_id: str, gh_token: str
) -> None:
    """Move the node to `publisher_id`: its caller must own that publisher, the node must be unclaimed (already the
    publisher's is success, changing nothing) and the token's GitHub user must have admin or push rights on the
    node's repository."""
    if not gh_token.strip():
        raise InvalidInput("GH_TOKEN is required", code="missing_gh_token")
    with uow:
        owned_publisher(uow, identity, publisher_id)
        node = _claimable(uow, publisher_id, node_id)
        if node is None:
            return
        repository = repository_of(node.repository_url)
    if repository is None:
        raise InvalidInput("The node's repository is not a GitHub repository", code="not_on_github")
    login = _prove(github, gh_token, *repository)
    with uow:  # the GitHub call ran outside any transaction: check again under the node's lock
        user, _ = owned_publisher(uow, identity, publisher_id)
        node = uow.nodes.locked(node_id)
        if node is None or _claimable(uow, publisher_id, node_id) is None:
            return
        node.publisher_id = publisher_id
        uow.audit(user.id, AuditAction.NODE_CLAIM, "node", node.id, "", publisher_id=publisher_id, github_user=login)
        uow.emit(EventType.NODE_UPDATED, node_id=node.id, publisher_id=publisher_id, by=user.id)
        uow.commit()


def _claimable(uow: UnitOfWork, publisher_id: str, node_id: str) -> Node | None:
    """The node if it is still unclaimed; None if it is already the publisher's; refused otherwise."""
    node = uow.nodes.get(node_id)
    if node is None or node.status == NodeStatus.DELETED:
        raise NotFound("Node not found", code="node_not_found")
    if node.publisher_id == publisher_id:
        return None
    if node.status == NodeStatus.BANNED:
        raise Forbidden("Node Banned", code="node_banned")
    if node.publisher_id != UNCLAIMED_PUBLISHER_ID:
        raise Forbidden("The node is already claimed by another publisher", code="node_already_claimed")
    return node


def _prove(github: GitHubClient, token: str, owner: str, name: str) -> str:
    """The GitHub login behind the token, if it may administer or push to owner/name; Forbidden otherwise."""
    try:
        access = github.repository_access(token, owner, name)
    except GitHubTokenRejected:
        raise Forbidden("The GH_TOKEN is invalid", code="invalid_gh_token") from None
    if access is None or not (access.admin or access.push):
        raise Forbidden(
            f"The repository {owner}/{name} is not owned by the authenticated GitHub user", code="not_repository_owner"
        )
    return access.login
