"""What the fuzzer and the authorization matrix found, kept as plain tests on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from shared.db.models import PublisherPermission, User
from tests.conftest import ROOT
from tests.support import RegistryClient


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nodes/a%0Ab/install", 404),
        ("GET", "/nodes/%0A", 404),
        ("PUT", "/publishers/p%0A/nodes/n", 404),
        ("GET", "/publishers/p/nodes/n/versions/%0A/scan", 400),
        ("GET", "/no/such%0Aroute", 404),
    ],
)
def test_a_line_feed_in_the_path_reaches_the_registry(api: RegistryClient, method: str, path: str, status: int) -> None:
    """functions-framework's catch-all route does not match a segment holding a line feed: Flask answered its HTML
    404 page before the registry saw the request. Now the registry answers, in JSON, as for any other path."""
    r = api.call(method, path, as_="alice", json_body={})
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/json" and set(r.get_json()) == {"error", "message"}


def test_the_outbox_sweep_answers_such_a_path_in_json_too(api: RegistryClient) -> None:
    import functions_framework

    sweep: Any = functions_framework.create_app(
        "registry_outbox_sweep", str(ROOT / "functions/registry/main.py"), "http"
    )
    r = sweep.test_client().post("/x%0Ay")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


@pytest.mark.parametrize("path", ["/admin/audit-log", "/versions"])
@pytest.mark.parametrize("page", ["457464276958387200", "99999999999999999999999"])
def test_a_page_past_what_offset_can_hold_is_a_400(api: RegistryClient, path: str, page: str) -> None:
    """OFFSET (page - 1) * limit overflowed the databases' integers: 500 on both."""
    r = api.get(path, as_="root", admin=True, query={"page": page, "limit": 100})
    assert r.status_code == 400 and r.get_json()["message"] == f"Invalid page: {page}. The maximum allowed is 1000000."
    assert api.get(path, as_="root", admin=True, query={"page": 1_000_000}).status_code == 200


def test_a_banned_persons_token_no_longer_publishes(api: RegistryClient) -> None:
    """Tokens belong to the publisher, but one made by a person who is banned since stops working; another
    owner's token keeps working."""
    api.create_publisher("alice", "alice-pub")
    api.get("/users", as_="carol")
    with api.container.sessions() as s:
        s.add(PublisherPermission(publisher_id="alice-pub", user_id="carol", permission="owner"))
        s.commit()
    carols = api.create_token("carol", "alice-pub")
    alices = api.create_token("alice", "alice-pub")
    with api.container.sessions() as s:
        s.execute(update(User).where(User.id == "carol").values(status="banned"))
        s.commit()
    url = "/publishers/alice-pub/nodes/pack/versions"
    r = api.post(url, json_body=api.publish_body(carols, "pack", "1.0.0"))
    assert r.status_code == 403 and r.get_json() == {"error": "user_banned", "message": "user/publisher is banned"}
    assert api.get("/nodes/pack").status_code == 404
    assert api.post(url, json_body=api.publish_body(alices, "pack", "1.0.0")).status_code == 201


LONG = "9" * 60 + ".0.0-" + ".".join(["1"] * 30)  # its sort key was 233 characters, for a column of 200


def test_a_version_whose_sort_key_outgrows_its_column_is_a_400(api: RegistryClient) -> None:
    """PostgreSQL refused the row (value too long): 500. Numbers past 10 digits would also sort out of order."""
    token = api.owner_with_token()
    url = "/publishers/alice-pub/nodes/pack/versions"
    for version in (LONG, "12345678901.0.0", "1.0.12345678901"):
        r = api.post(url, json_body=api.publish_body(token, "pack", version))
        assert r.status_code == 400 and r.get_json()["error"] == "invalid_version", version
    assert (
        api.post(url, json_body=api.publish_body(token, "pack", "1234567890.0.0-" + "1." * 50 + "1")).status_code == 201
    )


def test_a_comfyui_claim_too_long_to_index_filters_nothing(api: RegistryClient) -> None:
    token = api.owner_with_token()
    body = api.publish_body(token, "pack", "1.0.0", supported_comfyui_version=">=" + LONG)
    assert api.post("/publishers/alice-pub/nodes/pack/versions", json_body=body).status_code == 201
    r = api.put("/publishers/alice-pub/nodes/pack", as_="alice", json_body={"supported_comfyui_version": "<" + LONG})
    assert r.status_code == 200
    nodes = api.get("/nodes", query={"comfyui_version": "0.3.0"}).get_json()["nodes"]
    assert [n["id"] for n in nodes] == ["pack"]


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "status"),
    [
        ("GET", "/nodes", {"supported_accelerator": "GPU\x00"}, None, 400),
        ("GET", "/nodes/search", {"search": "a\x00b"}, None, 400),
        ("GET", "/admin/audit-log", {"actor_id": "\x00"}, None, 400),
        ("GET", "/nodes/pack/install", {"version": "1.0.0\x00"}, None, 400),
        ("POST", "/publishers/alice-pub/nodes/pack/ban", None, {"reason": "spam\x00"}, 400),
        ("POST", "/publishers", None, {"id": "new-pub", "name": "New", "description": "\x00"}, 400),
        ("PUT", "/publishers/alice-pub", None, {"tags": ["a"], "nested": {"x\x00": 1}}, 400),
        ("GET", "/nodes/pa%00ck", None, None, 404),
        ("GET", "/nodes/pa%00ck/install", None, None, 404),
        ("DELETE", "/publishers/alice-pub/nodes/pa%00ck", None, None, 404),
    ],
)
def test_a_nul_character_is_a_4xx_on_both_databases(
    api: RegistryClient, method: str, path: str, query: dict[str, str] | None, body: Any, status: int
) -> None:
    """PostgreSQL text cannot hold U+0000: the driver raised and the caller got a 500 (SQLite stored it)."""
    token = api.owner_with_token()
    api.publish("alice-pub", "pack", "1.0.0", token)
    r = api.call(method, path, as_="root", admin=True, query=query, json_body=body)
    assert r.status_code == status, r.get_data(as_text=True)
    if status == 400:
        assert r.get_json()["error"] == "nul_character"


def test_a_nul_in_a_parameter_nobody_reads_changes_nothing(api: RegistryClient) -> None:
    assert api.get("/health", query={"utm": "\x00"}).status_code == 200
    assert api.get("/nodes", query={"unknown": "\x00"}).status_code == 200
