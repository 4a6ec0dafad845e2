"""Customer API keys: `comfyui-` and 64 hex characters (256 bits), stored as a SHA-256 digest and a display prefix."""

from __future__ import annotations

import secrets

from shared.auth.secrets import digest
from shared.auth.secrets import display_prefix as secret_prefix

PREFIX = "comfyui-"
DISPLAY_LENGTH = len(PREFIX) + 8


def new_key() -> str:
    return PREFIX + secrets.token_hex(32)


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX) and 16 < len(value) <= 256


key_digest = digest  # a key is stored as any bearer secret is (shared.auth.secrets)


def display_prefix(key: str) -> str:
    return secret_prefix(key, DISPLAY_LENGTH)
