"""GET /releases (the ComfyUI release feed) and POST /releases (GitHub's release webhook, authenticated by its
signature): through the load balancer's routing to registry-releases, on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.registry.release_support import release_payload, signed
from tests.support import RegistryClient


def deliver(api: RegistryClient, payload: Any, **kw: Any) -> Any:
    raw, headers = signed(payload, **kw)
    return api.post("/releases", data=raw, headers=headers)


def feed(api: RegistryClient, **query: Any) -> list[dict[str, Any]]:
    r = api.get("/releases", query={"project": "comfyui", **query})
    assert r.status_code == 200, r.get_data(as_text=True)
    return list(r.get_json())


def test_a_published_release_is_in_the_feed_newest_first(api: RegistryClient) -> None:
    for tag in ("v0.3.9", "v0.3.10", "v0.4.0", "v1.0.0"):
        r = deliver(api, release_payload(tag))
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.get_json()["outcome"] == "stored"
    notes = feed(api)
    assert [n["version"] for n in notes] == ["1.0.0", "0.4.0", "0.3.10", "0.3.9"]  # semantic order, not text
    assert [n["attention"] for n in notes] == ["high", "medium", "low", "low"]
    first = notes[0]
    assert (first["project"], first["content"], first["published_at"]) == (
        "comfyui",
        "Fixes and features.",
        "2026-12-01T10:00:00.000000Z",
    )
    assert isinstance(first["id"], int)
    r = api.get("/releases", query={"project": "comfyui"})
    assert "public" in r.headers["Cache-Control"]


def test_current_version_keeps_that_release_and_newer_ones(api: RegistryClient) -> None:
    for tag in ("v0.3.9", "v0.3.10", "v0.4.0"):
        deliver(api, release_payload(tag))
    assert [n["version"] for n in feed(api, current_version="0.3.10")] == ["0.4.0", "0.3.10"]
    assert [n["version"] for n in feed(api, current_version="v0.4")] == ["0.4.0"]
    assert feed(api, current_version="0.5.0") == []
    assert api.get("/releases", query={"project": "comfyui", "current_version": "not a version"}).status_code == 400


def test_each_repository_feeds_its_own_project(api: RegistryClient) -> None:
    deliver(api, release_payload("v1.2.3", repo="Comfy-Org/ComfyUI_frontend"))
    deliver(api, release_payload("v0.3.0", repo="comfyanonymous/ComfyUI"))
    assert [n["version"] for n in feed(api, project="comfyui_frontend")] == ["1.2.3"]
    assert [n["version"] for n in feed(api)] == ["0.3.0"]
    assert feed(api, project="desktop") == []
    r = deliver(api, release_payload("v1.0.0", repo="someone/else"))
    assert r.status_code == 422


def test_deliveries_are_idempotent_and_edits_replace_the_note(api: RegistryClient) -> None:
    deliver(api, release_payload("v0.3.1"))
    deliver(api, release_payload("v0.3.1"))  # GitHub redelivered it
    deliver(api, release_payload("0.3.1", action="released"))  # the same version, tagged without `v`
    deliver(api, release_payload("v0.3.1", action="edited", body="Now with a security fix."))
    notes = feed(api)
    assert len(notes) == 1
    assert (notes[0]["content"], notes[0]["attention"]) == ("Now with a security fix.", "high")
    r = deliver(api, release_payload("v0.3.1", action="deleted"))
    assert r.get_json() == {"outcome": "removed", "project": "comfyui", "version": "0.3.1"}
    assert feed(api) == []
    assert deliver(api, release_payload("v0.3.1", action="deleted")).get_json()["outcome"] == "ignored"


@pytest.mark.parametrize(
    "payload",
    [
        release_payload("v2.0.0", prerelease=True),
        release_payload("v2.0.0", draft=True),
        release_payload("v2.0.0", action="created"),
        release_payload("v2.0.0", action="prereleased"),
    ],
)
def test_drafts_prereleases_and_other_actions_change_nothing(api: RegistryClient, payload: Any) -> None:
    r = deliver(api, payload)
    assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"
    assert feed(api) == []


def test_github_s_ping_is_answered(api: RegistryClient) -> None:
    r = deliver(api, {"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")
    assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"


def test_an_unsigned_or_wrongly_signed_delivery_is_refused(api: RegistryClient) -> None:
    raw, headers = signed(release_payload("v0.3.1"), secret="not-the-secret")
    r = api.post("/releases", data=raw, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_signature"
    raw, headers = signed(release_payload("v0.3.1"))
    tampered = raw.replace(b"Fixes", b"Trojan")
    assert api.post("/releases", data=tampered, headers=headers).status_code == 401
    del headers["X-Hub-Signature-256"]
    r = api.post("/releases", data=raw, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"] == "missing_signature"
    # A signed-in admin is no substitute for GitHub's signature.
    assert api.post("/releases", data=raw, headers=headers, as_="root", admin=True).status_code == 401
    assert feed(api) == []


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "not-a-uuid"), ("X-GitHub-Hook-ID", "")],
)
def test_github_s_headers_are_required(api: RegistryClient, header: str, value: str) -> None:
    raw, headers = signed(release_payload("v0.3.1"))
    headers[header] = value
    assert api.post("/releases", data=raw, headers=headers).status_code == 400


def test_a_signed_body_that_is_not_a_release_event_is_422(api: RegistryClient) -> None:
    assert deliver(api, {"action": "published"}).status_code == 422
    assert deliver(api, release_payload("not-a-version")).status_code == 422


def test_without_a_configured_secret_every_delivery_is_refused(api: RegistryClient) -> None:
    settings = api.container.settings.model_copy(update={"github_webhook_secret": None})
    api.use(settings=settings)
    r = deliver(api, release_payload("v0.3.1"))
    assert r.status_code == 503 and r.get_json()["error"] == "webhook_not_configured"


@pytest.mark.parametrize(
    "query", [{}, {"project": "comfy"}, {"project": "comfyui", "locale": "de"}, {"project": "comfyui", "locale": ""}]
)
def test_the_feed_checks_its_query(api: RegistryClient, query: dict[str, str]) -> None:
    r = api.get("/releases", query=query)
    if query.get("locale") == "":
        assert r.status_code == 200  # empty means the default, English
    else:
        assert r.status_code == 400


def test_the_feed_answers_in_every_locale_and_form_factor(api: RegistryClient) -> None:
    deliver(api, release_payload("v0.3.1"))
    for locale in ("en", "ja", "zh"):
        assert [n["version"] for n in feed(api, locale=locale, form_factor="desktop-win")] == ["0.3.1"]
