"""GET /admin/nodeversions: every version for admins, with the live spec's filters and paging; both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from shared.db.models import NodeVersion
from tests.registry.comfy_support import Catalog
from tests.support import RegistryClient

PATH = "/admin/nodeversions"


@pytest.fixture
def versions(api: RegistryClient, catalog: Catalog) -> Catalog:
    """pack: 1.0.0 active, 1.1.0 flagged ("Suspicious eval() call"), 1.2.0 deleted; other: 0.1.0 pending."""
    catalog.node("pack")
    catalog.node("other")
    catalog.version("pack", "1.0.0", status="active")
    flagged = catalog.version("pack", "1.1.0", status="flagged")
    catalog.version("pack", "1.2.0", status="deleted")
    catalog.version("other", "0.1.0")
    with api.container.sessions() as s:
        s.execute(update(NodeVersion).where(NodeVersion.id == flagged).values(status_reason="Suspicious EVAL() call"))
        s.commit()
    catalog.set_user("dbadmin", is_admin=True)
    return catalog


def listed(api: RegistryClient, **query: Any) -> dict[str, Any]:
    r = api.get(PATH, as_="dbadmin", query=query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return dict(r.get_json())


def pairs(page: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["node_id"], v["version"]) for v in page["versions"]}


def test_admins_list_every_version_but_deleted_ones(api: RegistryClient, versions: Catalog) -> None:
    page = listed(api)
    assert pairs(page) == {("pack", "1.0.0"), ("pack", "1.1.0"), ("other", "0.1.0")}
    assert (page["total"], page["page"], page["pageSize"], page["totalPages"]) == (3, 1, 10, 1)
    assert all(v["status_reason"] == "" for v in page["versions"])
    assert ("pack", "1.2.0") in pairs(listed(api, include_deleted="true"))


def test_filters_narrow_the_list(api: RegistryClient, versions: Catalog) -> None:
    assert pairs(listed(api, nodeId="other")) == {("other", "0.1.0")}
    assert pairs(listed(api, statuses="NodeVersionStatusFlagged")) == {("pack", "1.1.0")}
    both = api.get(
        PATH, as_="dbadmin", query=[("statuses", "NodeVersionStatusActive"), ("statuses", "NodeVersionStatusPending")]
    )
    assert pairs(both.get_json()) == {("pack", "1.0.0"), ("other", "0.1.0")}
    found = listed(api, status_reason="eval()", include_status_reason="true")
    assert [v["status_reason"] for v in found["versions"]] == ["Suspicious EVAL() call"]
    assert listed(api, status_reason="%")["total"] == 0  # the text is matched as it is, not as a pattern
    assert pairs(listed(api, statuses="NodeVersionStatusDeleted", include_deleted="true")) == {("pack", "1.2.0")}


def test_pages_do_not_overlap(api: RegistryClient, versions: Catalog) -> None:
    seen = []
    for number in (1, 2, 3):
        page = listed(api, page=number, pageSize=1)
        assert (page["total"], page["totalPages"]) == (3, 3)
        seen += [v["id"] for v in page["versions"]]
    assert len(set(seen)) == 3
    assert listed(api, page=4, pageSize=1)["versions"] == []


@pytest.mark.parametrize(
    "query", [{"pageSize": 101}, {"pageSize": 0}, {"statuses": "NodeVersionStatusWrong"}, {"include_deleted": "maybe"}]
)
def test_bad_parameters_are_400(api: RegistryClient, versions: Catalog, query: dict[str, Any]) -> None:
    assert api.get(PATH, as_="dbadmin", query=query).status_code == 400


def test_only_admins_may_list(api: RegistryClient, versions: Catalog) -> None:
    assert api.get(PATH).status_code == 401
    assert api.get(PATH, as_="alice").status_code == 403  # owns the publisher, is no admin
    assert api.get(PATH, as_="root", admin=True).status_code == 200  # the custom claim
