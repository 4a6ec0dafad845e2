"""The page parameters every listing takes."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from shared.errors import InvalidInput
from shared.http import params

MAX_PAGE = 1_000_000  # far past any real listing; keeps OFFSET within what the databases accept


def page_number(args: MultiDict[str, str]) -> int:
    page = params.integer(args, "page", 1, minimum=1)  # below 1 means 1, as the old service did
    if page > MAX_PAGE:
        raise InvalidInput(f"Invalid page: {page}. The maximum allowed is {MAX_PAGE}.")
    return page


def page_args(args: MultiDict[str, str], max_size: int) -> tuple[int, int]:
    page = page_number(args)
    return page, params.integer(args, "limit", 10, minimum=1, maximum=max_size)
