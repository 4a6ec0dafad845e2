"""What each function's database user may do, as named profiles, one per kind of function (terraform/functions.tf
gives each function one; tools/migrate.py grants it after every migration). The migrator owns every table; a
function's IAM user starts with no rights at all and gets only its profile's: the rights on each table its use cases
and the triggers they fire need, nothing more.

- reads: the public reads and install. Reads the catalog; writes nothing but the download count (`nodes`'
  `total_install`, with its `updated_at`, and the search document a trigger keeps in step with it). Sees no user,
  no token and no audit entry.
- publishing, community, moderation, ci, comfy_nodes, releases: one per registry area.
- scanner: the scanner, its sweep and its releases. indexer: the indexer and its reindex.
- outbox: the outbox sweep. Reads and marks the events left unsent, nothing else.
- billing: billing's HTTP function and jobs. Append-only on the ledger (SELECT and INSERT on entries and postings).
- proxy: the gateway and its settle task. Append-only on the ledger too; reads customers and keys (a key's last use
  is the one thing it changes of them); owns its jobs, replays and rate windows.

No profile may TRUNCATE, ALTER or DROP. Only `publishing` reads token digests. tests/deploy/test_grants.py runs each
function as its own role on PostgreSQL: every mutating route of the authorization matrix as the area's role, the
reads as `reads`, a scan, a release, an index and an outbox sweep as theirs, and checks what each is refused."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, text

ALL = "SELECT, INSERT, UPDATE, DELETE"
READ_WRITE = "SELECT, INSERT, UPDATE"

CATALOG_READS = {
    "nodes": "SELECT",
    "node_versions": "SELECT",
    "publishers": "SELECT",
    "comfy_nodes": "SELECT",
    "search_docs": "SELECT",
    "search_sync": "SELECT",
    "catalog_epoch": "SELECT",
}
# Every function that changes the catalog: it emits events (the outbox, marked sent by the relay after commit), bumps
# the epoch the read caches watch, and fires the triggers that keep the search documents in step.
_CHANGES_CATALOG = {
    **CATALOG_READS,
    "outbox_events": READ_WRITE,
    "catalog_epoch": READ_WRITE,
    "search_docs": ALL,
}
# Every area that people call with a Firebase login: the login creates or refreshes their user row, access checks
# read publishers' members, and what they change is audited.
_PEOPLE = {
    **_CHANGES_CATALOG,
    "users": READ_WRITE,
    "publisher_permissions": "SELECT",
    "audit_log": "INSERT",
}

PROFILES: Mapping[str, Mapping[str, str]] = {
    "reads": {
        **CATALOG_READS,
        "nodes": "SELECT, UPDATE (total_install, updated_at)",  # the ORM sets updated_at along with the count
        "search_docs": "SELECT, UPDATE",  # the trigger that copies the count
    },
    "publishing": {
        **_PEOPLE,
        "publishers": ALL,
        "publisher_permissions": ALL,
        "personal_access_tokens": ALL,
        "nodes": READ_WRITE,
        "node_versions": ALL,
        "comfy_nodes": ALL,
        "rate_limit_buckets": READ_WRITE,
        "audit_log": "SELECT, INSERT",
    },
    "community": {**_PEOPLE, "nodes": "SELECT, UPDATE", "node_reviews": READ_WRITE},
    "moderation": {
        **_PEOPLE,
        "publishers": "SELECT, UPDATE",
        "nodes": READ_WRITE,
        "node_versions": "SELECT, UPDATE",
        "audit_log": "SELECT, INSERT",
    },
    "ci": {
        **_PEOPLE,
        "git_commits": ALL,
        "ci_workflow_results": ALL,  # a run's result replaces the one stored for its commit, workflow and OS
        "ci_artifacts": ALL,
    },
    "comfy_nodes": {
        **_PEOPLE,
        "nodes": "SELECT, UPDATE",
        "node_versions": "SELECT, UPDATE",
        "comfy_nodes": ALL,
        "audit_log": "SELECT, INSERT",
        "job_pauses": ALL,  # the stars job's wait for GitHub's rate limit (set, then cleared)
    },
    # The release feed: GET /releases reads it, GitHub's signed webhook writes it (a deleted release is deleted).
    "releases": {"release_notes": ALL},
    "scanner": {
        **_CHANGES_CATALOG,
        "nodes": "SELECT, UPDATE",
        "node_versions": "SELECT, UPDATE",
        "comfy_nodes": ALL,
        "applied_events": "SELECT, INSERT",
    },
    "indexer": {
        **CATALOG_READS,
        "search_sync": ALL,
        "search_cursors": ALL,
        "applied_events": "SELECT, INSERT",
        "catalog_epoch": READ_WRITE,  # after sending to a separate index, so cached searches are dropped
    },
    "outbox": {"outbox_events": "SELECT, UPDATE"},
    # The money side: billing and its jobs (the gateway will share it). The ledger is append-only here, not only by
    # convention: entries and postings may be read and inserted, never updated or deleted. Balances and holds move
    # by UPDATE; nothing of the money side is ever deleted.
    "billing": {
        "customers": READ_WRITE,
        "customer_api_keys": READ_WRITE,
        "ledger_accounts": READ_WRITE,
        "ledger_entries": "SELECT, INSERT",
        "ledger_postings": "SELECT, INSERT",
        "credit_holds": READ_WRITE,
        "customer_events": "SELECT, INSERT",
        "usage_exports": READ_WRITE,
        "applied_events": "SELECT, INSERT",
        "users": "SELECT",  # `users.is_admin`: the registry's admins are billing's too
        "proxy_jobs": "SELECT",  # the holds sweep leaves the holds of jobs still running alone
    },
    "proxy": {
        "customers": "SELECT",
        "customer_api_keys": "SELECT, UPDATE",  # last_used_at
        "ledger_accounts": READ_WRITE,
        "ledger_entries": "SELECT, INSERT",
        "ledger_postings": "SELECT, INSERT",
        "credit_holds": READ_WRITE,
        "usage_exports": "SELECT, INSERT",
        "users": "SELECT",
        "proxy_jobs": READ_WRITE,
        "proxy_replays": ALL,  # an expired or released key is deleted
        "proxy_rate_windows": ALL,
        "proxy_customer_limits": READ_WRITE,  # an override is cleared to NULL, never deleted
        "proxy_model_tiers": ALL,  # a model's override is deleted when cleared
    },
}


def grant(conn: Connection, role: str, profile: str) -> None:
    """Give `role` the rights of `profile`, and take back any it held beyond them (a profile may shrink). A table a
    later migration adds is skipped until it exists."""
    if profile not in PROFILES:
        raise ValueError(f"unknown database profile {profile!r}; one of {sorted(PROFILES)}")
    r = conn.dialect.identifier_preparer.quote_identifier(role)
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {r}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {r}"))
    existing = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    for table, privileges in PROFILES[profile].items():
        if table in existing:
            conn.execute(text(f"GRANT {privileges} ON {table} TO {r}"))
    if profile != "reads" and profile != "outbox":
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}"))
