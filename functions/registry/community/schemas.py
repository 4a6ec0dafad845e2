"""What users send to add to a node: a review's star (a query parameter, as the old service took it), and
translations."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from functions.registry.common.schemas import Body
from shared.errors import InvalidInput
from shared.http import params


class TranslationsIn(Body):
    """`{"data": {"<language>": {...}}}`; the languages and sizes are checked by the use case."""

    data: dict[str, dict[str, Any]]


def star(args: MultiDict[str, str]) -> int:
    if not args.get("star"):
        raise InvalidInput("Query parameter star is required: a whole number from 1 to 5", code="invalid_star")
    return params.integer(args, "star", 0)
