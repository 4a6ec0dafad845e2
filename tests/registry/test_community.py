"""Reviews, deprecation, translations and the bulk version lookup, through the registry function."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event, func, select, update

from shared.db.models import Node, NodeReview, NodeVersion, OutboxEvent, PublisherPermission, User
from tests.support import RegistryClient


def set_user(api: RegistryClient, uid: str, **values: object) -> None:
    api.get("/users", as_=uid)  # creates the row
    with api.container.sessions() as s:
        s.execute(update(User).where(User.id == uid).values(**values))
        s.commit()


def set_node(api: RegistryClient, node_id: str, **values: object) -> None:
    with api.container.sessions() as s:
        s.execute(update(Node).where(Node.id == node_id).values(**values))
        s.commit()


def add_member(api: RegistryClient, publisher_id: str, uid: str) -> None:
    api.get("/users", as_=uid)
    with api.container.sessions() as s:
        s.add(PublisherPermission(publisher_id=publisher_id, user_id=uid, permission="member"))
        s.commit()


def node_row(api: RegistryClient, node_id: str) -> Node:
    with api.container.sessions() as s:
        node = s.get(Node, node_id)
        assert node is not None
        return node


def events_of(api: RegistryClient, type_: str) -> list[dict[str, Any]]:
    with api.container.sessions() as s:
        return [e.payload for e in s.scalars(select(OutboxEvent).where(OutboxEvent.type == type_)).all()]


# -- reviews ---------------------------------------------------------------------------------------------------
def review(api: RegistryClient, uid: str, star: object, node_id: str = "my-node") -> Any:
    return api.post(f"/nodes/{node_id}/reviews", as_=uid, query={"star": star})


def test_a_second_review_replaces_the_first(api: RegistryClient) -> None:
    api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())
    r = review(api, "bob", 4)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert (body["id"], body["rating"]) == ("my-node", 4)
    assert "latest_version" not in body and "publisher" not in body
    assert review(api, "carol", 2).get_json()["rating"] == 3
    assert review(api, "bob", 5).get_json()["rating"] == 3.5  # (5 + 2) / 2: bob counts once
    assert review(api, "alice", 5).status_code == 200  # the owner may rate too
    node = node_row(api, "my-node")
    assert (node.total_star, node.total_review) == (12, 3)
    assert api.get("/nodes/my-node").get_json()["rating"] == 4
    with api.container.sessions() as s:
        assert s.scalars(select(NodeReview.star).where(NodeReview.user_id == "bob")).all() == [5]
    reviewed = events_of(api, "node.reviewed")
    assert [(e["user_id"], e["star"], e["previous_star"]) for e in reviewed] == [
        ("bob", 4, None),
        ("carol", 2, None),
        ("bob", 5, 4),
        ("alice", 5, None),
    ]


def test_review_refusals_change_nothing(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for node_id in ("my-node", "banned-node", "gone-node"):
        api.publish("alice-pub", node_id, "1.0.0", token)
    set_node(api, "banned-node", status="banned")
    assert api.delete("/publishers/alice-pub/nodes/gone-node", as_="alice").status_code == 204
    set_user(api, "mallory", status="banned")

    assert api.post("/nodes/my-node/reviews", query={"star": 3}).status_code == 401
    for star in (None, "", "abc", "3.5", 0, 6, -1, 99999999999999999999):
        r = api.post("/nodes/my-node/reviews", as_="bob", query={"star": star} if star is not None else None)
        assert r.status_code == 400 and r.get_json()["message"], star
    assert review(api, "bob", 3, "no-such-node").status_code == 404
    assert review(api, "bob", 3, "gone-node").status_code == 404
    r = review(api, "bob", 3, "banned-node")
    assert r.status_code == 403 and r.get_json()["message"] == "Node Banned"
    r = review(api, "mallory", 3)
    assert r.status_code == 403 and r.get_json()["error"] == "user_banned"
    with api.container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(NodeReview)) == 0
        assert s.scalars(select(Node.total_review)).all() == [0, 0, 0]
    assert events_of(api, "node.reviewed") == []


def test_concurrent_reviews_are_counted_exactly(api: RegistryClient) -> None:
    api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())
    users = [f"user-{i}" for i in range(12)]
    for uid in users:
        api.get("/users", as_=uid)  # the user rows exist, so only the reviews race
    # Twelve users at once, plus one user racing with themselves eight times.
    calls = [(uid, i % 5 + 1) for i, uid in enumerate(users)] + [("racer", i % 5 + 1) for i in range(8)]

    def call(item: tuple[str, int]) -> int:
        return int(review(api, item[0], item[1]).status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(call, calls))
    assert codes == [200] * len(calls)
    with api.container.sessions() as s:
        stars = {uid: star for uid, star in s.execute(select(NodeReview.user_id, NodeReview.star)).all()}
    assert set(stars) == {*users, "racer"}  # one row per user, the racer included
    assert sum(stars[u] for u in users) == sum(i % 5 + 1 for i in range(12))
    node = node_row(api, "my-node")
    assert node.total_review == 13
    assert node.total_star == sum(stars.values())  # the counters agree with the rows, whoever won the race


# -- deprecation -----------------------------------------------------------------------------------------------
VERSIONS = "/publishers/alice-pub/nodes/my-node/versions"


def test_deprecated_versions_install_by_version_but_are_never_latest(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    newest = api.publish("alice-pub", "my-node", "1.1.0", token)["node_version"]["id"]
    r = api.put(f"{VERSIONS}/{newest}", as_="alice", json_body={"deprecated": True, "deprecation_reason": "breaks"})
    assert r.status_code == 200
    assert (r.get_json()["deprecated"], r.get_json()["deprecation_reason"]) == (True, "breaks")

    assert api.get("/nodes/my-node").get_json()["latest_version"]["version"] == "1.0.0"
    listed = api.get("/nodes").get_json()["nodes"]
    assert listed[0]["latest_version"]["version"] == "1.0.0"
    assert api.get("/publishers/alice-pub/nodes").get_json()[0]["latest_version"]["version"] == "1.0.0"
    assert api.get("/nodes/my-node/install").get_json()["version"] == "1.0.0"
    exact = api.get("/nodes/my-node/install", query={"version": "1.1.0"}).get_json()
    assert (exact["version"], exact["deprecated"], exact["deprecation_reason"]) == ("1.1.0", True, "breaks")
    rows = api.get("/nodes/my-node/versions").get_json()
    assert [(v["version"], v["deprecated"], v["deprecation_reason"]) for v in rows] == [
        ("1.1.0", True, "breaks"),
        ("1.0.0", False, ""),
    ]
    assert api.get("/nodes/my-node/versions/1.1.0").get_json()["deprecation_reason"] == "breaks"
    assert events_of(api, "version.updated")[-1]["deprecated"] is True

    # A changelog edit keeps the reason; un-deprecating clears it and 1.1.0 is the latest again.
    r = api.put(f"{VERSIONS}/{newest}", as_="alice", json_body={"changelog": "see notes"})
    assert r.get_json()["deprecation_reason"] == "breaks"
    r = api.put(f"{VERSIONS}/{newest}", as_="alice", json_body={"deprecated": False})
    assert (r.get_json()["deprecated"], r.get_json()["deprecation_reason"]) == (False, "")
    assert api.get("/nodes/my-node").get_json()["latest_version"]["version"] == "1.1.0"
    assert api.get("/nodes/my-node/install").get_json()["version"] == "1.1.0"


def test_a_node_whose_versions_are_all_deprecated_has_no_latest(api: RegistryClient) -> None:
    only = api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())["node_version"]["id"]
    assert api.put(f"{VERSIONS}/{only}", as_="alice", json_body={"deprecated": True}).status_code == 200
    assert "latest_version" not in api.get("/nodes/my-node").get_json()
    assert "latest_version" not in api.get("/nodes").get_json()["nodes"][0]
    assert api.get("/nodes/my-node/install").status_code == 404
    assert api.get("/nodes/my-node/install", query={"version": "1.0.0"}).status_code == 200


def test_deprecation_input_and_who_may_deprecate(api: RegistryClient) -> None:
    version_id = api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())["node_version"]["id"]
    url = f"{VERSIONS}/{version_id}"
    add_member(api, "alice-pub", "mia")
    set_user(api, "root", is_admin=True)
    set_user(api, "mallory", status="banned")
    body = {"deprecated": True, "deprecation_reason": "old"}
    assert api.put(url, json_body=body).status_code == 401
    for uid, admin in (("bob", False), ("mia", False), ("root", False), ("claimed", True), ("mallory", False)):
        assert api.put(url, as_=uid, admin=admin, json_body=body).status_code == 403, uid
    for bad in (
        {"deprecation_reason": "not deprecated yet"},
        {"deprecated": False, "deprecation_reason": "contradiction"},
        {"deprecated": True, "deprecation_reason": "x" * 2001},
        {"deprecated": True, "deprecation_reason": 5},
    ):
        assert api.put(url, as_="alice", json_body=bad).status_code == 400, bad
    version = api.get("/nodes/my-node/versions/1.0.0").get_json()
    assert (version["deprecated"], version["deprecation_reason"]) == (False, "")
    # An empty reason is no reason; a reason alone is fine once the version is deprecated.
    assert api.put(url, as_="alice", json_body={"deprecation_reason": ""}).status_code == 200
    assert api.put(url, as_="alice", json_body={"deprecated": True}).get_json()["deprecation_reason"] == ""
    r = api.put(url, as_="alice", json_body={"deprecation_reason": "  use 2.x  "})
    assert r.get_json()["deprecation_reason"] == "use 2.x"


# -- translations ----------------------------------------------------------------------------------------------
def translate(api: RegistryClient, data: Any, uid: str = "alice", node_id: str = "my-node", **kw: Any) -> Any:
    return api.post(f"/nodes/{node_id}/translations", as_=uid, json_body={"data": data}, **kw)


def test_translations_merge_by_language_and_show_on_request(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    api.publish("alice-pub", "plain-node", "1.0.0", token)
    r = translate(api, {"en": {"name": "Node"}, "zh-cn": {"name": "节点"}})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["translations"] == {"en": {"name": "Node"}, "zh-CN": {"name": "节点"}}
    translate(api, {"pt-BR": {"name": "Nó", "nested": {"a": [1, 2]}}, "EN": {"description": "d"}})
    translate(api, {"zh-CN": {}})  # an empty object removes the language
    expected = {"en": {"description": "d"}, "pt-BR": {"name": "Nó", "nested": {"a": [1, 2]}}}

    assert "translations" not in api.get("/nodes/my-node").get_json()
    assert api.get("/nodes/my-node", query={"include_translations": "true"}).get_json()["translations"] == expected
    nodes = api.get("/nodes", query={"include_translations": "true"}).get_json()["nodes"]
    assert {n["id"]: n["translations"] for n in nodes} == {"my-node": expected, "plain-node": {}}
    assert all("translations" not in n for n in api.get("/nodes").get_json()["nodes"])
    assert api.get("/nodes", query={"include_translations": "perhaps"}).status_code == 400
    assert api.get("/nodes/my-node", query={"include_translations": "perhaps"}).status_code == 400
    assert [e["languages"] for e in events_of(api, "node.translations_updated")] == [
        ["en", "zh-CN"],
        ["en", "pt-BR"],
        ["zh-CN"],
    ]


def test_who_may_set_translations(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for node_id in ("my-node", "banned-node", "gone-node"):
        api.publish("alice-pub", node_id, "1.0.0", token)
    set_node(api, "banned-node", status="banned")
    api.delete("/publishers/alice-pub/nodes/gone-node", as_="alice")
    add_member(api, "alice-pub", "mia")
    set_user(api, "root", is_admin=True)
    set_user(api, "mallory", status="banned")
    api.create_publisher("bob", "bob-pub")
    data = {"fr": {"name": "x"}}

    assert api.post("/nodes/my-node/translations", json_body={"data": data}).status_code == 401
    for uid in ("bob", "mia", "mallory"):
        assert translate(api, data, uid).status_code == 403, uid
    r = translate(api, data, node_id="banned-node")
    assert r.status_code == 403 and r.get_json()["message"] == "Node Banned"
    assert translate(api, data, node_id="gone-node").status_code == 404
    assert translate(api, data, node_id="no-such-node").status_code == 404
    assert node_row(api, "my-node").translations == {}

    assert translate(api, {"de": {"name": "d"}}, "root").status_code == 201
    assert translate(api, {"it": {"name": "i"}}, "claimed", admin=True).status_code == 201
    assert translate(api, data).status_code == 201
    assert sorted(node_row(api, "my-node").translations) == ["de", "fr", "it"]


def test_translation_input_is_checked(api: RegistryClient) -> None:
    api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())
    url = "/nodes/my-node/translations"
    assert api.post(url, as_="alice", data="{oops").status_code == 400
    assert api.post(url, as_="alice", json_body={}).status_code == 400
    assert api.post(url, as_="alice", json_body={"data": []}).status_code == 400
    assert translate(api, {}).status_code == 400
    assert translate(api, {"en": "not an object"}).status_code == 400
    for tag in ("english", "e", "en_US", "en-", "", "../x", "en-US-extra-long", "12", "zh-Hant-TW-x"):
        r = translate(api, {tag: {"name": "x"}})
        assert r.status_code == 400 and r.get_json()["error"] == "invalid_language", tag
    assert translate(api, {"en-us": {"a": 1}, "en-US": {"a": 2}}).status_code == 400
    assert translate(api, {f"l{chr(97 + i // 26)}{chr(97 + i % 26)}": {"a": 1} for i in range(65)}).status_code == 400
    assert translate(api, {"en": {"text": "x" * 20_000}}).status_code == 400
    assert node_row(api, "my-node").translations == {}
    for tag in ("es-419", "zh-Hant", "ZH-hant-tw"):
        assert translate(api, {tag: {"a": 1}}).status_code == 201, tag
    assert sorted(node_row(api, "my-node").translations) == ["es-419", "zh-Hant", "zh-Hant-TW"]
    # The bounds hold across calls too: ten languages of 15,000 bytes each pass one by one until 128 KiB.
    codes = [translate(api, {f"x{chr(97 + i)}": {"t": "y" * 15_000}}).status_code for i in range(10)]
    assert codes == [201] * 8 + [400] * 2


def test_concurrent_translations_of_different_languages_all_land(api: RegistryClient) -> None:
    api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())
    languages = ["en", "fr", "de", "it", "es", "ja", "ko", "ru"]

    def call(language: str) -> int:
        return int(translate(api, {language: {"name": language}}).status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(call, languages)) == [201] * len(languages)
    assert sorted(node_row(api, "my-node").translations) == sorted(languages)


# -- bulk version lookup ---------------------------------------------------------------------------------------
def bulk(api: RegistryClient, items: Any) -> Any:
    return api.post("/bulk/nodes/versions", json_body={"node_versions": items})


def test_bulk_lookup_answers_each_item_in_order(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for node_id, version in (("my-node", "1.0.0"), ("my-node", "2.0.0"), ("banned-node", "1.0.0"), ("gone", "1.0.0")):
        api.publish("alice-pub", node_id, version, token)
    set_node(api, "banned-node", status="banned")
    api.delete("/publishers/alice-pub/nodes/gone", as_="alice")
    asked = [
        ("my-node", "2.0.0"),
        ("my-node", "1.0"),
        ("my-node", "3.0.0"),
        ("nobody", "1.0.0"),
        ("my-node", "not-a-version"),
        ("banned-node", "1.0.0"),
        ("gone", "1.0.0"),
        ("my-node", "2.0.0"),
    ]
    r = bulk(api, [{"node_id": n, "version": v, "extra": 1} for n, v in asked])
    assert r.status_code == 200, r.get_data(as_text=True)
    answers = r.get_json()["node_versions"]
    assert [(a["identifier"]["node_id"], a["identifier"]["version"]) for a in answers] == asked
    assert [a["status"] for a in answers] == [
        "success",
        "success",
        "not_found",
        "not_found",
        "error",
        "error",
        "not_found",
        "success",
    ]
    assert [a.get("node_version", {}).get("version") for a in answers[:2]] == ["2.0.0", "1.0.0"]
    assert answers[0]["node_version"]["downloadUrl"].endswith("/my-node/2.0.0/node.zip")
    assert "not-a-version" in answers[4]["error_message"] and answers[5]["error_message"] == "Node Banned"
    assert all("error_message" not in a for a in answers if a["status"] != "error")
    assert all("node_version" not in a for a in answers if a["status"] != "success")


def test_bulk_lookup_bounds_and_bad_bodies(api: RegistryClient) -> None:
    api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())
    item = {"node_id": "my-node", "version": "1.0.0"}
    assert len(bulk(api, [item] * 100).get_json()["node_versions"]) == 100
    r = bulk(api, [item] * 101)
    assert r.status_code == 400 and r.get_json()["error"] == "too_many_items" and "100" in r.get_json()["message"]
    api.container.settings.bulk_max_items = 2
    assert bulk(api, [item] * 3).status_code == 400
    assert bulk(api, [item] * 2).status_code == 200
    assert bulk(api, []).status_code == 400
    for body in ({}, {"node_versions": "x"}, {"node_versions": [{"node_id": "a"}]}, {"node_versions": [1]}):
        assert api.post("/bulk/nodes/versions", json_body=body).status_code == 400, body
    assert bulk(api, [{"node_id": "a", "version": 1}]).status_code == 400
    assert api.post("/bulk/nodes/versions", data="[").status_code == 400


def test_bulk_lookup_takes_a_bounded_number_of_queries(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for i in range(20):
        api.publish("alice-pub", f"node-{i}", "1.0.0", token)
    items = [{"node_id": f"node-{i}", "version": v} for i in range(25) for v in ("1.0.0", "2.0.0")]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(api.container.engine, "before_cursor_execute", count)
    try:
        answers = bulk(api, items[:100]).get_json()["node_versions"]
    finally:
        event.remove(api.container.engine, "before_cursor_execute", count)
    assert [a["status"] for a in answers].count("success") == 20
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 2


def test_deprecated_versions_in_bulk_answers(api: RegistryClient) -> None:
    version_id = api.publish("alice-pub", "my-node", "1.0.0", api.owner_with_token())["node_version"]["id"]
    api.put(f"{VERSIONS}/{version_id}", as_="alice", json_body={"deprecated": True, "deprecation_reason": "old"})
    answer = bulk(api, [{"node_id": "my-node", "version": "1.0.0"}]).get_json()["node_versions"][0]
    assert answer["status"] == "success"
    assert (answer["node_version"]["deprecated"], answer["node_version"]["deprecation_reason"]) == (True, "old")
    with api.container.sessions() as s:
        assert s.scalar(select(NodeVersion.deprecation_reason)) == "old"
