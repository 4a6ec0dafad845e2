"""Comfy nodes: the extractor's report (service accounts), the public reads, and edits by owners and admins."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from shared.db.models import AuditEntry, ComfyNode, Node, PublisherPermission
from tests.registry.comfy_support import Catalog
from tests.registry.oidc_support import BUILDER, ServiceAuth
from tests.support import RegistryClient, version_row

LOADER = {
    "category": "loaders",
    "description": "Loads a checkpoint.",
    "input_types": json.dumps({"required": {"ckpt_name": [["a.safetensors"]]}}),
    "deprecated": False,
    "experimental": True,
    "output_is_list": [False, False, False],
    "return_names": json.dumps(["MODEL", "CLIP", "VAE"]),
    "return_types": json.dumps(["MODEL", "CLIP", "VAE"]),
    "function": "load_checkpoint",
}
BUILD = {"project_id": "demo", "project_number": "42", "location": "global", "build_id": "b-1"}
URL = "/nodes/pack/versions/1.0.0/comfy-nodes"


def expected(name: str, fields: dict[str, Any], policy: str = "ComfyNodePolicyActive") -> dict[str, Any]:
    blank: dict[str, Any] = {
        "category": "",
        "description": "",
        "input_types": "",
        "deprecated": False,
        "experimental": False,
        "output_is_list": [],
        "return_names": "",
        "return_types": "",
        "function": "",
    }
    return {"comfy_node_name": name, **blank, **fields, "policy": policy}


def report(api: RegistryClient, service: ServiceAuth, body: Any, url: str = URL) -> Any:
    return api.post(url, headers=service.headers(BUILDER), json_body=body)


def set_node_status(api: RegistryClient, node_id: str, status: str) -> None:
    with api.container.sessions() as s:
        node = s.get(Node, node_id)
        assert node is not None
        node.status = status
        s.commit()


def count_comfy_nodes(api: RegistryClient) -> int:
    with api.container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ComfyNode)) or 0)


@pytest.fixture
def pack(catalog: Catalog) -> Catalog:
    catalog.node("pack")
    catalog.version("pack", "1.0.0")
    return catalog


# -- the extractor's report -----------------------------------------------------------------------------------
def test_a_successful_report_stores_the_classes_and_marks_the_version(
    api: RegistryClient, service: ServiceAuth, pack: Catalog
) -> None:
    body = {"success": True, "cloud_build_info": BUILD, "nodes": {"CheckpointLoader": LOADER, "Note": {}}}
    r = report(api, service, body)
    assert r.status_code == 204 and r.get_data() == b""
    row = version_row(api, "pack", "1.0.0")
    assert (row.comfy_node_extract_status, row.comfy_node_cloud_build_info) == ("success", BUILD)
    assert api.get("/nodes/pack/versions/1.0.0").get_json()["comfy_node_extract_status"] == "success"
    assert api.get(f"{URL}/CheckpointLoader").get_json() == expected("CheckpointLoader", LOADER)
    assert api.get(f"{URL}/Note").get_json() == expected("Note", {})
    assert pack.events("version.comfy_nodes_extracted") == [
        {
            "node_id": "pack",
            "version": "1.0.0",
            "version_id": row.id,
            "status": "success",
            "reason": "",
            "comfy_nodes": 2,
            "by": BUILDER,
        }
    ]


def test_a_second_report_conflicts_and_changes_nothing(
    api: RegistryClient, service: ServiceAuth, pack: Catalog
) -> None:
    assert report(api, service, {"nodes": {"A": LOADER}}).status_code == 204
    bodies: list[dict[str, Any]] = [{"nodes": {"B": {}}}, {"success": True, "nodes": {"A": {}}}, {"success": False}]
    for body in bodies:
        r = report(api, service, body)
        assert (r.status_code, r.get_json()["error"]) == (409, "comfy_nodes_exist")
    assert count_comfy_nodes(api) == 1
    assert version_row(api, "pack", "1.0.0").comfy_node_extract_status == "success"
    # A report that found no classes still counts as done.
    pack.version("pack", "2.0.0")
    assert report(api, service, {"success": True}, "/nodes/pack/versions/2.0.0/comfy-nodes").status_code == 204
    assert report(api, service, {"nodes": {"A": {}}}, "/nodes/pack/versions/2.0.0/comfy-nodes").status_code == 409


@pytest.mark.parametrize("failure", [{"success": False}, {"status": "failed"}, {"success": False, "status": "failed"}])
def test_a_failed_report_keeps_the_build_info_and_may_be_retried(
    api: RegistryClient, service: ServiceAuth, pack: Catalog, failure: dict[str, Any]
) -> None:
    body = {**failure, "reason": "timeout", "cloud_build_info": BUILD, "nodes": {"Ignored": {}}}
    assert report(api, service, body).status_code == 204
    row = version_row(api, "pack", "1.0.0")
    assert (row.comfy_node_extract_status, row.comfy_node_cloud_build_info) == ("failed", BUILD)
    assert count_comfy_nodes(api) == 0
    event = pack.events("version.comfy_nodes_extracted")[0]
    assert (event["status"], event["reason"], event["comfy_nodes"]) == ("failed", "timeout", 0)

    assert report(api, service, {"status": "success", "nodes": {"A": {}}}).status_code == 204
    assert version_row(api, "pack", "1.0.0").comfy_node_extract_status == "success"
    assert count_comfy_nodes(api) == 1


def test_reports_find_the_version_by_its_normalised_string(
    api: RegistryClient, service: ServiceAuth, pack: Catalog
) -> None:
    assert report(api, service, {"nodes": {"A": {}}}, "/nodes/pack/versions/v1.0/comfy-nodes").status_code == 204
    assert api.get(f"{URL}/A").status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/nodes/nope/versions/1.0.0/comfy-nodes", "/nodes/pack/versions/9.9.9/comfy-nodes",
     "/nodes/pack/versions/not-a-version/comfy-nodes"],
)  # fmt: skip
def test_reports_for_unknown_versions_are_404(
    api: RegistryClient, service: ServiceAuth, pack: Catalog, url: str
) -> None:
    r = report(api, service, {"nodes": {"A": {}}}, url)
    assert (r.status_code, r.get_json()["error"]) == (404, "version_not_found")
    assert count_comfy_nodes(api) == 0


def test_only_allowed_service_accounts_may_report(api: RegistryClient, service: ServiceAuth, pack: Catalog) -> None:
    pack.set_user("root", is_admin=True)
    body: dict[str, Any] = {"nodes": {"A": {}}}
    assert api.post(URL, json_body=body).status_code == 401
    assert api.post(URL, as_="alice", json_body=body).status_code == 401  # the owner, with a Firebase token
    assert api.post(URL, as_="root", admin=True, json_body=body).status_code == 401
    r = api.post(URL, headers=service.headers("stranger@x.iam.gserviceaccount.com"), json_body=body)
    assert r.status_code == 403
    assert count_comfy_nodes(api) == 0
    assert version_row(api, "pack", "1.0.0").comfy_node_extract_status == "pending"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2]",
        b'"nodes"',
        json.dumps({"nodes": ["A"]}).encode(),
        json.dumps({"nodes": {"A": {"deprecated": "sometimes"}}}).encode(),
        json.dumps({"nodes": {"A": {"output_is_list": "no"}}}).encode(),
        json.dumps({"nodes": {"A": {"policy": "ComfyNodePolicyWhatever"}}}).encode(),
        json.dumps({"nodes": {"": {}}}).encode(),
        json.dumps({"nodes": {"x" * 513: {}}}).encode(),
        json.dumps({"nodes": {f"N{i}": {} for i in range(2001)}}).encode(),
        json.dumps({"success": True, "status": "failed"}).encode(),
        json.dumps({"status": "done"}).encode(),
        json.dumps({"cloud_build_info": "b-1"}).encode(),
        b"\xff\xfe",
    ],
)
def test_bad_reports_are_400_and_change_nothing(
    api: RegistryClient, service: ServiceAuth, pack: Catalog, raw: bytes
) -> None:
    r = api.post(URL, headers=service.headers(), data=raw)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert count_comfy_nodes(api) == 0
    assert version_row(api, "pack", "1.0.0").comfy_node_extract_status == "pending"
    assert pack.events("version.comfy_nodes_extracted") == []


def test_concurrent_reports_store_the_classes_once(api: RegistryClient, service: ServiceAuth, pack: Catalog) -> None:
    headers = service.headers()
    body = json.dumps({"nodes": {f"N{i}": LOADER for i in range(20)}})

    def post(_: int) -> int:
        return int(api.client.post(URL, headers=headers, data=body, content_type="application/json").status_code)

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(post, range(4)))
    # SQLite may refuse a racing writer with a retryable 503 instead of waiting; PostgreSQL locks the version row.
    allowed = {204, 409} if "postgresql" in str(api.container.settings.database_url) else {204, 409, 503}
    assert codes.count(204) == 1 and set(codes) <= allowed, codes
    assert count_comfy_nodes(api) == 20


# -- reads of one version -------------------------------------------------------------------------------------
def test_listing_a_versions_classes_pages_by_name(api: RegistryClient, service: ServiceAuth, pack: Catalog) -> None:
    names = [f"Node{i:02d}" for i in range(25)]
    assert report(api, service, {"nodes": {n: {"category": "c"} for n in reversed(names)}}).status_code == 204
    body = api.get(URL).get_json()
    assert body["totalNumberOfPages"] == 3
    assert [c["comfy_node_name"] for c in body["comfy_nodes"]] == names[:10]
    last = api.get(URL, query={"page": 3, "limit": 10}).get_json()
    assert [c["comfy_node_name"] for c in last["comfy_nodes"]] == names[20:]
    assert api.get(URL, query={"page": 9}).get_json() == {"comfy_nodes": [], "totalNumberOfPages": 3}
    assert len(api.get(URL, query={"page": 0, "limit": 1000}).get_json()["comfy_nodes"]) == 25
    assert api.get(URL, query={"page": "x"}).status_code == 400
    assert api.get(URL, query={"limit": "all"}).status_code == 400
    assert api.get("/nodes/pack/versions/1.0/comfy-nodes").get_json()["totalNumberOfPages"] == 3


def test_a_version_without_classes_lists_none(api: RegistryClient, pack: Catalog) -> None:
    assert api.get(URL).get_json() == {"comfy_nodes": [], "totalNumberOfPages": 0}


def test_reads_of_missing_banned_and_deleted_nodes(api: RegistryClient, service: ServiceAuth, pack: Catalog) -> None:
    assert report(api, service, {"nodes": {"A": {}}}).status_code == 204
    missing = [
        "/nodes/nope/versions/1.0.0/comfy-nodes",
        "/nodes/pack/versions/2.0.0/comfy-nodes",
        "/nodes/pack/versions/junk/comfy-nodes",
        f"{URL}/Missing",
        "/nodes/pack/versions/2.0.0/comfy-nodes/A",
    ]
    for path in missing:
        assert api.get(path).status_code == 404, path
    for status, code in (("banned", 403), ("deleted", 404)):
        set_node_status(api, "pack", status)
        assert api.get(URL).status_code == code
        assert api.get(f"{URL}/A").status_code == code


def test_class_names_may_contain_spaces_and_slashes(api: RegistryClient, service: ServiceAuth, pack: Catalog) -> None:
    names = ["Image Resize (rgthree)", "Sampler/Advanced", "Ω Loader|v2"]
    assert report(api, service, {"nodes": {n: {"function": "run"} for n in names}}).status_code == 204
    for name in names:
        r = api.client.get(f"{URL}/{quote(name)}")
        assert r.status_code == 200, name
        assert r.get_json()["comfy_node_name"] == name
        r = api.client.get(f"/comfy-nodes/{quote(name)}/node")
        assert (r.status_code, r.get_json()["id"]) == (200, "pack")


# -- edits ----------------------------------------------------------------------------------------------------
@pytest.fixture
def extracted(api: RegistryClient, service: ServiceAuth, pack: Catalog) -> Catalog:
    assert report(api, service, {"nodes": {"Loader": LOADER}}).status_code == 204
    return pack


def audit_count(api: RegistryClient) -> int:
    with api.container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_the_owner_edits_descriptive_fields(api: RegistryClient, extracted: Catalog) -> None:
    r = api.put(
        f"{URL}/Loader", as_="alice", json_body={"description": "Better.", "deprecated": True, "category": None}
    )
    assert r.status_code == 200
    want = expected("Loader", {**LOADER, "description": "Better.", "deprecated": True})
    assert r.get_json() == want
    assert api.get(f"{URL}/Loader").get_json() == want
    assert api.put(f"{URL}/Loader", as_="alice", json_body={}).get_json() == want
    # Sending the current policy is not a policy change.
    assert api.put(f"{URL}/Loader", as_="alice", json_body={"policy": "ComfyNodePolicyActive"}).status_code == 200
    assert audit_count(api) == 0
    event = extracted.events("comfy_node.updated")[0]
    assert event == {"node_id": "pack", "version": "1.0.0", "comfy_node_name": "Loader", "by": "alice"}


def test_only_admins_change_the_policy_and_their_edits_are_audited(api: RegistryClient, extracted: Catalog) -> None:
    r = api.put(f"{URL}/Loader", as_="alice", json_body={"policy": "ComfyNodePolicyBanned"})
    assert (r.status_code, r.get_json()["error"]) == (403, "not_admin")
    r = api.put(f"{URL}/Loader", as_="root", admin=True, json_body={"policy": "ComfyNodePolicyBanned"})
    assert (r.status_code, r.get_json()["policy"]) == (200, "ComfyNodePolicyBanned")
    extracted.set_user("keeper", is_admin=True)
    r = api.put(f"{URL}/Loader", as_="keeper", json_body={"policy": "ComfyNodePolicyLocalOnly", "function": "f"})
    assert (r.status_code, r.get_json()["policy"], r.get_json()["function"]) == (200, "ComfyNodePolicyLocalOnly", "f")
    with api.container.sessions() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.created_at)).all()
        assert [(e.actor_id, e.action, e.target_id) for e in entries] == [
            ("root", "comfy_node.update", "pack@1.0.0/Loader"),
            ("keeper", "comfy_node.update", "pack@1.0.0/Loader"),
        ]
        assert entries[1].details == {"changes": {"function": "f", "policy": "local_only"}}


def test_who_may_not_edit(api: RegistryClient, extracted: Catalog) -> None:
    api.get("/users", as_="mallory")
    with api.container.sessions() as s:
        s.add(PublisherPermission(publisher_id="alice-pub", user_id="mallory", permission="member"))
        s.commit()
    body = {"description": "defaced"}
    assert api.put(f"{URL}/Loader", json_body=body).status_code == 401
    assert api.put(f"{URL}/Loader", as_="mallory", json_body=body).status_code == 403  # a member
    assert api.put(f"{URL}/Loader", as_="eve", json_body=body).status_code == 403
    extracted.set_user("alice", status="banned")
    r = api.put(f"{URL}/Loader", as_="alice", json_body=body)
    assert (r.status_code, r.get_json()["error"]) == (403, "user_banned")
    extracted.set_user("root", is_admin=True, status="banned")
    assert api.put(f"{URL}/Loader", as_="root", admin=True, json_body=body).status_code == 403
    assert api.get(f"{URL}/Loader").get_json()["description"] == LOADER["description"]
    assert extracted.events("comfy_node.updated") == [] and audit_count(api) == 0


def test_a_banned_nodes_classes_are_for_admins_to_edit(api: RegistryClient, extracted: Catalog) -> None:
    set_node_status(api, "pack", "banned")
    r = api.put(f"{URL}/Loader", as_="alice", json_body={"description": "x"})
    assert (r.status_code, r.get_json()["error"]) == (403, "node_banned")
    r = api.put(f"{URL}/Loader", as_="root", admin=True, json_body={"policy": "ComfyNodePolicyBanned"})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("path", "code"),
    [("/nodes/nope/versions/1.0.0/comfy-nodes/Loader", "node_not_found"),
     ("/nodes/pack/versions/2.0.0/comfy-nodes/Loader", "version_not_found"),
     ("/nodes/pack/versions/junk/comfy-nodes/Loader", "version_not_found"),
     (f"{URL}/Nope", "comfy_node_not_found")],
)  # fmt: skip
def test_edits_of_unknown_things_are_404(api: RegistryClient, extracted: Catalog, path: str, code: str) -> None:
    r = api.put(path, as_="alice", json_body={"description": "x"})
    assert (r.status_code, r.get_json()["error"]) == (404, code)


@pytest.mark.parametrize(
    "raw",
    [b"{oops", b"[]", b'{"deprecated": "very"}', b'{"output_is_list": [1, "x"]}', b'{"policy": "Banned"}',
     json.dumps({"function": "f" * 513}).encode()],
)  # fmt: skip
def test_bad_edits_are_400(api: RegistryClient, extracted: Catalog, raw: bytes) -> None:
    r = api.put(f"{URL}/Loader", as_="alice", data=raw)
    assert r.status_code == 400
    assert api.get(f"{URL}/Loader").get_json() == expected("Loader", LOADER)


# -- across nodes ---------------------------------------------------------------------------------------------
@pytest.fixture
def many(api: RegistryClient, service: ServiceAuth, catalog: Catalog) -> Catalog:
    """alpha 1.0.0 {Shared, A1}, alpha 2.0.0 {Shared, A2}; beta 1.0.0 {Shared} (more installs); hidden ones."""
    catalog.node("alpha", downloads=5)
    catalog.node("beta", downloads=50)
    catalog.node("banned-pack", status="banned", downloads=500)
    catalog.node("deleted-pack", status="deleted", downloads=500)
    reports = {
        ("alpha", "1.0.0", "active"): ["Shared", "A1"],
        ("alpha", "2.0.0", "pending"): ["Shared", "A2"],
        ("alpha", "0.5.0", "deleted"): ["Shared", "Old"],
        ("beta", "1.0.0", "active"): ["Shared"],
        ("beta", "0.1.0", "banned"): ["Gone"],
        ("banned-pack", "1.0.0", "active"): ["Shared", "Hidden"],
        ("deleted-pack", "1.0.0", "active"): ["Shared", "Hidden"],
    }
    for (node_id, version, status), names in reports.items():
        catalog.version(node_id, version, status=status)
        url = f"/nodes/{node_id}/versions/{version}/comfy-nodes"
        assert report(api, service, {"nodes": {n: {} for n in names}}, url).status_code == 204
    return catalog


def names(body: dict[str, Any]) -> list[str]:
    return [c["comfy_node_name"] for c in body["comfy_nodes"]]


def test_all_classes_with_filters(api: RegistryClient, many: Catalog) -> None:
    body = api.get("/comfy-nodes").get_json()
    assert body["total"] == 5
    assert names(body) == ["A2", "Shared", "A1", "Shared", "Shared"]  # alpha 2.0.0, alpha 1.0.0, beta 1.0.0
    assert api.get("/comfy-nodes", query={"node_id": "beta"}).get_json() == {
        "comfy_nodes": [expected("Shared", {})],
        "total": 1,
    }
    assert names(api.get("/comfy-nodes", query={"node_id": "alpha", "node_version": "v1.0"}).get_json()) == [
        "A1",
        "Shared",
    ]
    assert api.get("/comfy-nodes", query={"comfy_node_name": "Shared"}).get_json()["total"] == 3
    for hidden in ("Hidden", "Old", "Gone", "Nope"):
        assert api.get("/comfy-nodes", query={"comfy_node_name": hidden}).get_json()["total"] == 0
    page = api.get("/comfy-nodes", query={"pageSize": 2, "page": 3}).get_json()
    assert (names(page), page["total"]) == (["Shared"], 5)


@pytest.mark.parametrize(
    "query",
    [{"pageSize": 101}, {"pageSize": 0}, {"pageSize": "x"}, {"page": 0}, {"page": 10**7}, {"node_version": "latest"}],
)
def test_all_classes_refuses_bad_parameters(api: RegistryClient, query: dict[str, Any]) -> None:
    assert api.get("/comfy-nodes", query=query).status_code == 400


def test_the_node_providing_a_class_is_the_most_installed_visible_one(api: RegistryClient, many: Catalog) -> None:
    r = api.get("/comfy-nodes/Shared/node")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["id"], body["downloads"], body["latest_version"]["version"]) == ("beta", 50, "1.0.0")
    assert api.get("/comfy-nodes/A2/node").get_json()["id"] == "alpha"
    for hidden in ("Hidden", "Old", "Gone", "Nope"):
        r = api.get(f"/comfy-nodes/{hidden}/node")
        assert (r.status_code, r.get_json()["error"]) == (404, "comfy_node_not_found")
