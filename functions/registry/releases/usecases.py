"""The release feed of Comfy's projects: GET /releases reads it; GitHub's release webhook (POST /releases, signed
with GITHUB_WEBHOOK_SECRET) writes it, one note per project and version, so a delivery repeated or retried changes
nothing more than the first did."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared import version_numbers
from shared.db.models import ReleaseNote
from shared.errors import InvalidInput, Unauthenticated, Unavailable, Unprocessable
from shared.repositories.releases import ReleaseIn
from shared.uow import UnitOfWork

PROJECTS = ("comfyui", "comfyui_frontend", "desktop", "cloud")
LOCALES = ("en", "es", "fr", "ja", "ko", "ru", "zh")
FEED_LIMIT = 10  # the newest notes a reader gets
STORE = frozenset({"published", "released", "edited"})  # with a release that is neither a draft nor a prerelease
REMOVE = frozenset({"deleted", "unpublished"})
SECURITY_WORDS = ("security", "vulnerability", "cve-")


@dataclass(frozen=True)
class Release:
    """What a release webhook delivery says, as the use case needs it."""

    action: str
    repository: str  # owner/name
    tag_name: str
    body: str
    draft: bool
    prerelease: bool
    published_at: datetime | None
    created_at: datetime
    release_id: int


@dataclass(frozen=True)
class Applied:
    outcome: str  # stored | removed | ignored
    project: str | None = None
    version: str | None = None


def feed(uow: UnitOfWork, project: str, current_version: str | None) -> Sequence[ReleaseNote]:
    """The project's newest notes, newest first; with `current_version`, only that version's and newer ones (what a
    client on it has not seen, and its own)."""
    from_key = None
    if current_version:
        canonical = version_numbers.normalize_or_none(current_version)
        if canonical is None:
            raise InvalidInput(f"Invalid current_version: {current_version!r}", code="invalid_version")
        from_key = version_numbers.sort_key(canonical)
    with uow:
        return list(uow.release_notes.feed(project, from_key, FEED_LIMIT))


def verify_signature(secret: str | None, body: bytes, signature: str | None) -> None:
    """GitHub's `X-Hub-Signature-256`: `sha256=` and the HMAC-SHA256 of the exact body under the webhook's secret."""
    if not secret:
        raise Unavailable("The release webhook is not configured here", code="webhook_not_configured")
    if not signature or not signature.startswith("sha256="):
        raise Unauthenticated("X-Hub-Signature-256 is missing", code="missing_signature")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower()):
        raise Unauthenticated("X-Hub-Signature-256 does not match the body", code="invalid_signature")


def apply_release(uow: UnitOfWork, projects: Mapping[str, str], release: Release) -> Applied:
    """Store, replace or remove the note of the release's project and version; other actions change nothing."""
    project = projects.get(release.repository.lower())
    if project is None:
        raise _unprocessable(f"The repository {release.repository} feeds no release notes here", "repository")
    version = version_numbers.normalize_or_none(release.tag_name)
    if version is None:
        raise _unprocessable(f"The tag {release.tag_name!r} is not a version", "release.tag_name")
    with uow:
        if release.action in REMOVE:
            removed = uow.release_notes.remove(project, version)
            uow.commit()
            return Applied("removed" if removed else "ignored", project, version)
        if release.action not in STORE or release.draft or release.prerelease:
            return Applied("ignored", project, version)
        uow.release_notes.put(
            ReleaseIn(
                project=project,
                version=version,
                sort_key=version_numbers.sort_key(version),
                attention=attention(version, release.body),
                content=release.body,
                published_at=release.published_at or release.created_at,
                github_release_id=release.release_id,
            )
        )
        uow.commit()
        return Applied("stored", project, version)


def attention(version: str, body: str) -> str:
    """high for a security fix or a new major version, medium for a new minor one, low for a patch."""
    if any(word in body.lower() for word in SECURITY_WORDS):
        return "high"
    major, minor, patch = version.split("-", 1)[0].split("+", 1)[0].split(".")[:3]
    if minor == "0" and patch == "0" and major != "0":
        return "high"
    return "medium" if patch == "0" else "low"


def _unprocessable(message: str, where: str) -> Unprocessable:
    return Unprocessable(message, details=[{"loc": where, "msg": message, "type": "value_error"}], code="unprocessable")
