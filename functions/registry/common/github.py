"""A node's GitHub repository, as claim-my-node and the stars job read it from the node's `repository` URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Owner: letters, digits and single hyphens; a repository name: letters, digits, '.', '_' and '-'.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_SSH = re.compile(r"^git@github\.com:(?P<path>.+)$", re.IGNORECASE)


def repository_of(url: str) -> tuple[str, str] | None:
    """(owner, name) of a github.com repository URL (https, with or without `www.`, `.git` or a trailing path such as
    `/tree/main`; or `git@github.com:owner/name.git`); None for anything else."""
    raw = (url or "").strip()
    if (ssh := _SSH.match(raw)) is not None:
        path = ssh.group("path")
    else:
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        if parts.scheme.lower() not in ("http", "https") or parts.hostname not in ("github.com", "www.github.com"):
            return None
        path = parts.path
    pieces = [p for p in path.split("/") if p]
    if len(pieces) < 2:
        return None
    owner, name = pieces[0], pieces[1].removesuffix(".git")
    if not _OWNER.match(owner) or not _NAME.match(name) or name in (".", ".."):
        return None
    return owner, name
