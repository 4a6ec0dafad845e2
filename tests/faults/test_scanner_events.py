"""Cloud Storage delivers `object.finalized` at least once and in no particular order. Two identical sets of
uploads, one delivered once each in order and one with every event twice, redelivered under a new id and shuffled,
must end in the same state; a late redelivery must not undo what happened to a version since."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db.models import ComfyNode, NodeVersion, OutboxEvent
from tests.conftest import ROOT
from tests.scanner.test_function import MALICIOUS, finalize
from tests.support import RegistryClient, clean_pack

# (node suffix, version) -> the archive stored for it, or None for an upload that never arrived.
UPLOADS: dict[tuple[str, str], bytes | None] = {
    ("pack", "1.0.0"): clean_pack("pack", "1.0.0"),
    ("pack", "1.1.0"): MALICIOUS,
    ("pack", "1.2.0"): b"not a zip archive",
    ("pack", "1.3.0"): None,
    ("other", "1.0.0"): clean_pack("other", "1.0.0"),
}


@pytest.fixture
def scanner_app() -> Any:
    import functions_framework

    return functions_framework.create_app("scanner", str(ROOT / "functions/scanner/main.py"), "cloudevent")


def stage(api: RegistryClient, group: str, token: str) -> list[str]:
    """Publish the group's versions and store their archives without delivering any event; returns the paths."""
    api.container.blobs._hooks.clear()  # type: ignore[attr-defined]  # events are delivered by hand below
    paths = []
    for (suffix, version), archive in UPLOADS.items():
        node_id = f"{group}-{suffix}"
        path = api.publish("alice-pub", node_id, version, token, upload=False)["storage_path"]
        if archive is not None:
            api.container.blobs.write(path, [archive])  # type: ignore[attr-defined]
        paths.append(path)
    return paths


def end_state(api: RegistryClient, group: str) -> dict[str, Any]:
    """What the scans left for the group, keyed without the group's prefix."""
    out: dict[str, Any] = {}
    with api.container.sessions() as s:
        for row in s.scalars(select(NodeVersion).where(NodeVersion.node_id.like(f"{group}-%"))).all():
            names = s.scalars(select(ComfyNode.name).where(ComfyNode.node_version_id == row.id)).all()
            events = {
                type_: s.scalar(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(OutboxEvent.type == type_, OutboxEvent.payload["version_id"].as_string() == row.id)
                )
                for type_ in ("version.scanned", "version.status_changed")
            }
            key = f"{row.node_id.removeprefix(group + '-')}@{row.version}"
            out[key] = (
                row.status,
                row.status_reason,
                row.archive_sha256,
                row.archive_size,
                sorted(f["rule"] for f in row.scan_findings or []),
                sorted(names),
                row.comfy_node_extract_status,
                events,
            )
    for suffix in ("pack", "other"):
        latest = api.get(f"/nodes/{group}-{suffix}").get_json().get("latest_version")
        out[f"{suffix} latest"] = latest and latest["version"]
    return out


def test_duplicated_and_shuffled_events_end_where_ordered_ones_do(api: RegistryClient, scanner_app: Any) -> None:
    token = api.owner_with_token()
    bucket = api.container.settings.uploads_bucket
    for path in stage(api, "a", token):
        assert finalize(scanner_app, bucket, path, event_id=f"once:{path}") == 200
    deliveries = [(path, f"{kind}:{path}") for path in stage(api, "b", token) for kind in ("first", "first", "again")]
    random.Random(7).shuffle(deliveries)
    for path, event_id in deliveries:
        assert finalize(scanner_app, bucket, path, event_id=event_id) == 200

    ordered, shuffled = end_state(api, "a"), end_state(api, "b")
    assert shuffled == ordered
    statuses = {key: value[0] for key, value in ordered.items() if "@" in key}
    assert statuses == {
        "pack@1.0.0": "active",
        "pack@1.1.0": "flagged",
        "pack@1.2.0": "flagged",
        "pack@1.3.0": "deleted",
        "other@1.0.0": "active",
    }
    assert (ordered["pack latest"], ordered["other latest"]) == ("1.0.0", "1.0.0")
    assert {value[-1]["version.scanned"] for key, value in ordered.items() if "@" in key} == {1}


def test_a_late_redelivery_does_not_undo_later_changes(api: RegistryClient, scanner_app: Any) -> None:
    token = api.owner_with_token()
    bucket = api.container.settings.uploads_bucket
    paths = stage(api, "c", token)
    for path in paths:
        assert finalize(scanner_app, bucket, path, event_id=f"first:{path}") == 200
    r = api.put(
        "/admin/nodes/c-pack/versions/1.0.0",
        as_="root",
        admin=True,
        json_body={"status": "NodeVersionStatusBanned", "status_reason": "stolen code"},
    )
    assert r.status_code == 200
    other = api.get("/nodes/c-other/versions/1.0.0").get_json()["id"]
    assert api.delete(f"/publishers/alice-pub/nodes/c-other/versions/{other}", as_="alice").status_code == 204
    before = end_state(api, "c")
    for path in paths:  # the same objects, finalized again much later (a new event id each)
        assert finalize(scanner_app, bucket, path, event_id=f"late:{path}") == 200
    assert end_state(api, "c") == before
    assert (before["pack@1.0.0"][0], before["other@1.0.0"][0]) == ("banned", "deleted")
