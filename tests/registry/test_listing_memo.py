"""The listings keep each read row's view and what was written of it (shared/repositories/views._views,
serializers._listed): an unchanged row costs a lookup, a changed one is a new key and is read afresh."""

from __future__ import annotations

from sqlalchemy import update

from functions.registry.common import serializers
from shared.db.models import Node, NodeVersion, Publisher
from shared.http.responses import dumps
from shared.repositories import views
from tests.support import RegistryClient


def _set(api: RegistryClient, model: type, where: object, **values: object) -> None:
    with api.container.sessions() as s:
        s.execute(update(model).where(where).values(**values))  # type: ignore[arg-type]
        s.commit()


def _listed(api: RegistryClient) -> dict[str, dict[str, object]]:
    body = api.get("/nodes", query={"limit": 50}).get_json()
    return {n["id"]: n for n in body["nodes"]}


def test_every_change_to_a_listed_row_shows_on_the_next_read(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    for i in range(3):
        api.publish("alice-pub", f"pack-{i}", "1.0.0", token)
    first = _listed(api)
    assert _listed(api) == first  # served from what was kept
    _set(api, Node, Node.id == "pack-1", total_install=41, name="Renamed", tags=["video"])
    _set(api, Publisher, Publisher.id == "alice-pub", name="Alice Inc")
    _set(api, NodeVersion, NodeVersion.node_id == "pack-2", changelog="fixed")
    now = _listed(api)
    assert (now["pack-1"]["downloads"], now["pack-1"]["name"], now["pack-1"]["tags"]) == (41, "Renamed", ["video"])
    assert {n["publisher"]["name"] for n in now.values()} == {"Alice Inc"}  # type: ignore[index]
    assert now["pack-2"]["latest_version"]["changelog"] == "fixed"  # type: ignore[index]
    assert now["pack-0"]["latest_version"] == first["pack-0"]["latest_version"]
    api.publish("alice-pub", "pack-0", "1.1.0", token)
    assert _listed(api)["pack-0"]["latest_version"]["version"] == "1.1.0"  # type: ignore[index]


def test_a_row_read_again_shares_its_view_and_writes_the_same_bytes(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    api.publish("alice-pub", "pack-a", "1.0.0", token)
    api.publish("alice-pub", "pack-b", "2.0.0", token)
    _set(api, Node, Node.id == "pack-a", translations={"fr": {"name": "Paquet"}}, total_star=7, total_review=2)
    with api.container.sessions() as s:
        first, first_latest = views.records(s, ["pack-a", "pack-b"])
        again, again_latest = views.records(s, ["pack-a", "pack-b"])
    assert again["pack-a"] is first["pack-a"] and again_latest["pack-b"] is first_latest["pack-b"]
    blobs = api.container.blobs
    for node_id, node in first.items():
        for with_publisher in (False, True):
            for translations in (False, True):
                kept = serializers._listed(node, first_latest.get(node_id), blobs, with_publisher, translations)  # type: ignore[arg-type]
                fresh = serializers.node(
                    node,
                    first_latest.get(node_id),
                    blobs,
                    with_publisher=with_publisher,
                    include_reason=False,
                    translations=translations,
                )
                assert dumps([kept]) == dumps([fresh])
