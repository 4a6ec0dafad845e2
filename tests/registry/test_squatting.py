"""Look-alike ids are refused with 409, naming the id they would pass for."""

from __future__ import annotations

import pytest

from shared.naming import fold
from tests.support import RegistryClient


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ComfyUI-Manager", "comfyui_manager"),
        ("comfyui-manager", "comfyui.manager"),
        ("impact-pack", "lmpact-pack"),
        ("rgthree-comfy", "rgthree-cornfy"),
        ("comfy-org", "c0mfy-0rg"),
        ("was-node-suite", "wasnodesuite"),
    ],
)
def test_fold_makes_look_alikes_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("a", "b"), [("video-helper", "video-helpers"), ("alpha", "beta"), ("node-a", "node-b")])
def test_fold_keeps_different_names_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


def test_look_alike_node_ids_are_refused(api: RegistryClient) -> None:
    alice = api.owner_with_token("alice", "alice-pub")
    mallory = api.owner_with_token("mallory", "mallory-pub")
    api.publish("alice-pub", "ComfyUI-Impact-Pack", "1.0.0", alice)
    for squat in ("comfyui_impact_pack", "comfyui-lmpact-pack", "ComfyUI.Impact.Pack", "comfyuiimpactpack"):
        r = api.post(
            f"/publishers/mallory-pub/nodes/{squat}/versions", json_body=api.publish_body(mallory, squat, "1.0.0")
        )
        assert r.status_code == 409, squat
        assert "ComfyUI-Impact-Pack" in r.get_json()["message"]
        r = api.post("/publishers/mallory-pub/nodes", as_="mallory", json_body={"id": squat, "name": "x"})
        assert r.status_code == 409, squat
    assert [n["id"] for n in api.get("/nodes").get_json()["nodes"]] == ["ComfyUI-Impact-Pack"]
    # The owner's own later versions are of course fine.
    api.publish("alice-pub", "ComfyUI-Impact-Pack", "1.1.0", alice)


def test_look_alike_publisher_ids_are_refused(api: RegistryClient) -> None:
    api.create_publisher("alice", "comfy-org")
    for squat in ("comfyorg", "c0mfy-org", "comfy-0rg"):
        r = api.post("/publishers", as_="mallory", json_body={"id": squat, "name": "Comfy"})
        assert r.status_code == 409, squat
        assert "comfy-org" in r.get_json()["message"]
        r = api.get("/publishers/validate", query={"username": squat})
        assert r.status_code == 400
    assert api.post("/publishers", as_="bob", json_body={"id": "comfy-orgs", "name": "x"}).status_code == 201
