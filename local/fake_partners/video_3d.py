"""Fake partners of the live spec (see `routes` for the seed's): the routes they answer, the credential each expects
and how it is sent (`HEADER_AUTH`: a header of its own; `AUTH_CHECKS`: a check of its own; else a bearer)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Request

from local.fake_partners import answers as a

TABLE: list[tuple[str, str, str, a.Handler]] = []
CREDENTIALS: dict[str, str] = {}
HEADER_AUTH: dict[str, str] = {}
AUTH_CHECKS: dict[str, Callable[[Request, str], bool]] = {}
