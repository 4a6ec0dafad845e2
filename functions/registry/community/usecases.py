"""What users add to a node: star reviews, and the translations of its texts that its publisher provides."""

from __future__ import annotations

import json
import re
from typing import Any

from functions.registry.common.access import active_user, readable_node, require_owner_or_admin
from shared.auth.identity import Identity
from shared.db.models import Node
from shared.errors import InvalidInput, NotFound
from shared.events import EventType
from shared.uow import UnitOfWork

MIN_STAR, MAX_STAR = 1, 5

# A BCP 47 subset: a 2-3 letter language, then an optional 4-letter script and a 2-letter or 3-digit region.
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|\d{3}))?$")
MAX_LANGUAGES = 64  # per node, after the merge
MAX_LANGUAGE_BYTES = 16_384  # one language's object, as compact JSON
MAX_TOTAL_BYTES = 131_072  # every language of a node together: translations ride along on list pages


def review(uow: UnitOfWork, identity: Identity, node_id: str, star: int) -> Node:
    """The caller's star for the node; a second review replaces the first, so each user counts once."""
    if not MIN_STAR <= star <= MAX_STAR:
        raise InvalidInput(f"star must be between {MIN_STAR} and {MAX_STAR}, got {star}", code="invalid_star")
    with uow:
        user = active_user(uow, identity)
        node = readable_node(uow, node_id)
        previous = uow.reviews.put(node.id, user.id, star)
        if previous is None:
            uow.nodes.add_rating(node, star, 1)
        else:
            uow.nodes.add_rating(node, star - previous, 0)
        uow.emit(EventType.NODE_REVIEWED, node_id=node.id, user_id=user.id, star=star, previous_star=previous)
        uow.commit()
        return node


def canonical_language(tag: str) -> str:
    """`zh-cn` -> `zh-CN`, `ZH-hant-tw` -> `zh-Hant-TW`: one spelling per language, so merges find it."""
    match = _LANGUAGE.match(tag)
    if not match:
        raise InvalidInput(
            f"{tag[:40]!r} is not a language tag; use a code such as en, zh-CN, pt-BR or zh-Hant",
            code="invalid_language",
        )
    language, script, region = match.groups()
    return "-".join(p for p in (language.lower(), script and script.title(), region and region.upper()) if p)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _checked(data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if not data:
        raise InvalidInput("data must name at least one language", code="invalid_translations")
    if len(data) > MAX_LANGUAGES:
        raise InvalidInput(f"At most {MAX_LANGUAGES} languages per node", code="too_many_languages")
    out: dict[str, dict[str, Any]] = {}
    for tag, texts in data.items():
        language = canonical_language(tag)
        if language in out:
            raise InvalidInput(f"Language {language} is given twice", code="invalid_language")
        if _size(texts) > MAX_LANGUAGE_BYTES:
            raise InvalidInput(
                f"The {language} translation is larger than {MAX_LANGUAGE_BYTES} bytes", code="translation_too_large"
            )
        out[language] = texts
    return out


def set_translations(uow: UnitOfWork, identity: Identity, node_id: str, data: dict[str, dict[str, Any]]) -> Node:
    """Merge by language: each given language replaces its stored object, `{}` removes it, others stay."""
    given = _checked(data)
    with uow:
        user = active_user(uow, identity)
        node = readable_node(uow, node_id)
        require_owner_or_admin(uow, user, identity, node.publisher_id)
        locked = uow.nodes.locked(node.id)
        if locked is None:
            raise NotFound("Node not found", code="node_not_found")
        merged = {**(locked.translations or {}), **given}
        merged = {language: texts for language, texts in merged.items() if texts}
        if len(merged) > MAX_LANGUAGES:
            raise InvalidInput(f"At most {MAX_LANGUAGES} languages per node", code="too_many_languages")
        if _size(merged) > MAX_TOTAL_BYTES:
            raise InvalidInput(
                f"A node's translations may not exceed {MAX_TOTAL_BYTES} bytes in all", code="translation_too_large"
            )
        locked.translations = merged  # a new dict: JSON columns do not track changes made in place
        uow.emit(EventType.NODE_TRANSLATIONS_UPDATED, node_id=node.id, languages=sorted(given), by=user.id)
        uow.commit()
        return locked
