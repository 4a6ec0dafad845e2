"""GET /releases' query and POST /releases' delivery (GitHub's release webhook: its `X-GitHub-*` headers and the
parts of its JSON payload the feed keeps)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.datastructures import MultiDict

from functions.registry.releases.usecases import LOCALES, PROJECTS, Release
from shared.errors import InvalidInput, Unprocessable
from shared.http import body

MAX_DELIVERY_BYTES = 2_000_000  # a release's body may hold 125,000 characters, and the payload much besides
EVENTS = ("release", "ping")  # GitHub pings a webhook once, when it is created


@dataclass(frozen=True)
class FeedQuery:
    project: str
    current_version: str | None
    locale: str
    form_factor: str | None


def feed_query(args: MultiDict[str, str]) -> FeedQuery:
    project = args.get("project") or ""
    if project not in PROJECTS:
        raise InvalidInput(f"project must be one of {', '.join(PROJECTS)}", code="invalid_project")
    locale = args.get("locale") or "en"
    if locale not in LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", code="invalid_locale")
    return FeedQuery(project, args.get("current_version") or None, locale, args.get("form_factor") or None)


@dataclass(frozen=True)
class Delivery:
    event: str
    raw: bytes
    signature: str | None


def delivery(request: Request) -> Delivery:
    """The headers GitHub always sends, checked; the body kept as bytes (the signature is over those exact bytes)."""
    event = request.headers.get("X-GitHub-Event", "")
    if event not in EVENTS:
        raise InvalidInput("X-GitHub-Event must be `release`", code="invalid_event")
    try:
        uuid.UUID(request.headers.get("X-GitHub-Delivery", ""))
    except ValueError:
        raise InvalidInput("X-GitHub-Delivery must be a UUID", code="invalid_delivery") from None
    if not request.headers.get("X-GitHub-Hook-ID"):
        raise InvalidInput("X-GitHub-Hook-ID is required", code="invalid_hook")
    return Delivery(event, body.read(request, MAX_DELIVERY_BYTES), request.headers.get("X-Hub-Signature-256"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Repository(_Model):
    full_name: str = Field(max_length=256)


class _Release(_Model):
    id: int
    tag_name: str = Field(max_length=256)
    body: str | None = None
    draft: bool
    prerelease: bool
    created_at: datetime
    published_at: datetime | None = None


class ReleaseWebhookIn(_Model):
    action: str = Field(max_length=64)
    release: _Release
    repository: _Repository

    def release_event(self) -> Release:
        r = self.release
        return Release(
            action=self.action,
            repository=self.repository.full_name,
            tag_name=r.tag_name,
            body=r.body or "",
            draft=r.draft,
            prerelease=r.prerelease,
            published_at=r.published_at,
            created_at=r.created_at,
            release_id=r.id,
        )


def release(raw: bytes) -> Release:
    """The signed body as a release event; a payload that is not one is 422 (GitHub shows it on the delivery)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The body is not JSON", code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("The JSON body must be an object", code="malformed_json")
    try:
        return ReleaseWebhookIn.model_validate(data).release_event()
    except ValidationError as exc:
        details: list[dict[str, object]] = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()[:5]
        ]
        raise Unprocessable("The body is not a release event", details=details) from None
