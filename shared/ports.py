"""The outside services the code talks to, each named for its role."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Protocol


class BlobStore(Protocol):
    """Node archives in two places (see `shared.archives`). Uploads land in a private quarantine through signed,
    create-only PUT URLs; only the scanner's clean verdict copies the exact bytes it judged to the public release
    location, create-only, and a ban or flag withdraws them from there.

    Methods that reach the store raise `shared.errors.BlobStoreUnavailable` when it, or what signs for it, cannot be
    reached now: adapters translate their vendor's failures, so callers handle one error."""

    # -- the quarantine -------------------------------------------------------------------------------------------
    def signed_upload_url(self, path: str, content_type: str, max_bytes: int) -> str:
        """A URL that accepts one PUT of `path` with exactly this content type and at most `max_bytes`, answering 200;
        a PUT of an object already stored fails (412, as Cloud Storage's `if-generation-match: 0`)."""
        ...

    def signed_download_url(self, path: str) -> str:
        """A short-lived URL that reads one quarantined object: for its publisher and admins, never for the public."""
        ...

    def exists(self, path: str) -> bool:
        """Whether the quarantine holds `path`."""
        ...

    def open_read(self, path: str) -> BinaryIO:
        """A readable binary stream of a quarantined object (FileNotFoundError if missing), for large archives."""
        ...

    # -- the releases ---------------------------------------------------------------------------------------------
    def release(self, path: str, data: IO[bytes], sha256: str) -> None:
        """Store `data` at `path` in the release location, create-only. Its SHA-256 must be `sha256`, else nothing is
        stored and `ArchiveMismatch` is raised; an object already released there with that digest is success (a
        retried release), any other is `ArchiveMismatch`."""
        ...

    def withdraw(self, path: str) -> None:
        """Make a released object unreadable at once; a missing one is fine."""
        ...

    def release_url(self, path: str) -> str:
        """The absolute public URL of a released object."""
        ...

    def is_released(self, path: str) -> bool: ...

    # -- data the functions keep for themselves -------------------------------------------------------------------
    def write_data(self, path: str, data: bytes) -> None:
        """Store or replace a small object under `path` in the release location (the scanner's advisory snapshot,
        public data); only paths under `_scanner/` are used, which no publisher's release path can take."""
        ...

    def read_data(self, path: str) -> bytes | None:
        """What `write_data` stored at `path`, or None when nothing is."""
        ...


class DownloadTally(Protocol):
    def add(self, node_id: str) -> None:
        """Count one download of the node (written later, in batches, or at once: the adapter's choice)."""
        ...


class ServiceVerifier(Protocol):
    def verify(self, authorization: str | None, path: str) -> str:
        """The e-mail of the Google service account whose OIDC token (an `Authorization` header value) authorises
        this call; Unauthenticated or Forbidden otherwise."""
        ...


class EventPublisher(Protocol):
    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Send one message; raise on failure so that the outbox keeps it."""
        ...


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a node search besides its words; an empty field does not narrow."""

    repository_url: str = ""  # a piece of the repository URL, any case
    comfy_node: str = ""  # a piece of the name of a node class the pack provides, any case
    # Nodes that declare one of these, or declare none (`OS Independent` always matches an OS).
    supported_os: tuple[str, ...] = ()
    supported_accelerators: tuple[str, ...] = ()


# One index record: a JSON object whose `objectID` is the node id (nodes) or the version id (versions).
SearchRecord = Mapping[str, Any]


class SearchIndex(Protocol):
    """The node search index. Records are always rebuilt from the database by the indexer, so every write is a
    whole-record upsert or a delete, and applying the same write twice changes nothing."""

    # True for an index kept apart from the database (Algolia): it shows a change only once the indexer has sent
    # it, so the indexer's commit must tell the read caches (the database's own index changes with the data).
    updated_by_indexer: bool

    def upsert_nodes(self, records: Sequence[SearchRecord]) -> None: ...

    def delete_nodes(self, node_ids: Sequence[str]) -> None: ...

    def upsert_versions(self, records: Sequence[SearchRecord]) -> None: ...

    def delete_versions(self, version_ids: Sequence[str]) -> None: ...

    def search(self, query: str, filters: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        """Ids of one page of visible nodes, best first, and how many match in all."""
        ...

    def apply_settings(self) -> None:
        """Make the index's configuration (ranking, facets, ...) what the code says."""
        ...

    def node_ids(self) -> Iterator[str]:
        """Every node record id the index holds (a full reindex removes those the database no longer shows)."""
        ...

    def version_ids(self) -> Iterator[str]: ...


class CdnInvalidator(Protocol):
    """The CDN in front of the public reads (Cloud CDN on the load balancer)."""

    def invalidate(self, paths: Sequence[str]) -> None:
        """Drop what the CDN keeps for these paths, every query string of each (`/x/*`: everything under /x/).
        Best effort: a failure is logged, never raised (the answers expire after their s-maxage anyway)."""
        ...


@dataclass(frozen=True)
class RepositoryAccess:
    """What a GitHub token's user may do on one repository."""

    login: str  # the token's GitHub user
    admin: bool
    push: bool


class GitHubTokenRejected(Exception):
    """GitHub refused the token itself (expired, revoked, malformed). The token is never part of the message."""


class GitHubClient(Protocol):
    """GitHub's REST API. A spent rate limit raises `shared.errors.RateLimited` (`retry_after`: seconds until GitHub's
    reset or its Retry-After); GitHub unreachable or failing raises `shared.errors.Unavailable`. Tokens are used for
    the one call they are given to, never stored or logged."""

    def repository_access(self, token: str, owner: str, name: str) -> RepositoryAccess | None:
        """The token's user and their rights on `owner/name`; None when the repository does not exist or the token
        cannot see it. GitHubTokenRejected when GitHub refuses the token."""
        ...

    def stars(self, owner: str, name: str) -> int | None:
        """The repository's stargazers count; None when it does not exist (deleted, renamed away, private)."""
        ...
