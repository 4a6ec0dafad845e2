"""GitHub's release webhook deliveries, signed as GitHub signs them (X-Hub-Signature-256 over the exact body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

SECRET = "test-webhook-secret"


def release_payload(
    tag: str,
    *,
    action: str = "published",
    repo: str = "comfyanonymous/ComfyUI",
    body: str | None = "Fixes and features.",
    prerelease: bool = False,
    draft: bool = False,
    published_at: str | None = "2026-12-01T10:00:00Z",
) -> dict[str, Any]:
    return {
        "action": action,
        "release": {
            "id": abs(hash(tag)) % 10_000_000,
            "node_id": "RE_x",
            "url": "https://api.github.com/repos/x/y/releases/1",
            "html_url": "https://github.com/x/y/releases/tag/v1",
            "tag_name": tag,
            "target_commitish": "master",
            "name": tag,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
            "created_at": "2026-12-01T09:00:00Z",
            "published_at": published_at,
            "author": {"login": "comfyanonymous", "id": 1},
            "tarball_url": "https://api.github.com/t",
            "zipball_url": "https://api.github.com/z",
            "assets": [],
        },
        "repository": {"id": 1, "full_name": repo, "name": repo.split("/")[1]},
        "sender": {"login": "comfyanonymous", "id": 1},
    }


def signed(payload: Any, *, secret: str = SECRET, event: str = "release") -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery."""
    raw = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "123456",
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }
