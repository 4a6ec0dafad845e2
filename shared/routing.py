"""The one routing table: which function serves which paths. The local server uses it, Terraform renders it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class HttpFunction:
    name: str  # the deployed Cloud Function's name
    source: str  # its folder in the repository
    entry_point: str  # the function in its main.py
    paths: tuple[str, ...]  # load-balancer path templates ({name} one segment, ** the rest); none: the default


REGISTRY = "functions/registry"
# Each registry API area is its own function. The templates are matched in this order, first match wins, by the
# load balancer (rendered as route rules) and the local server alike: the moderation paths under /publishers/ come
# before publishing's /publishers/**. tests/unit/test_routing.py checks every route of an area reaches its function.
HTTP_FUNCTIONS: tuple[HttpFunction, ...] = (
    # The partner gateway: every /proxy path, the Comfy Router (/v2) and the partner-node limits (before billing's
    # /customers/** and /admin/customers/**, and the registry's /admin/**).
    HttpFunction(
        "proxy",
        "functions/proxy",
        "proxy",
        (
            "/proxy",
            "/proxy/**",
            "/v2",
            "/v2/**",
            "/customers/me/partner-node-concurrency",
            "/admin/customers/{customer_id}/partner-node-concurrency-override",
            "/admin/partner-node-model-overrides",
            "/admin/partner-node-model-overrides/**",
        ),
    ),
    # The money side: customers, keys, credit, webhooks. Before the registry's `/admin/**`.
    HttpFunction(
        "billing",
        "functions/billing",
        "billing",
        (
            "/customers",
            "/customers/**",
            "/admin/customers/**",
            "/admin/verify-api-key",
            "/admin/generate-token",
            "/admin/sync-api-key-deletion",
            "/webhook/**",
            "/features",
            "/billing/**",
        ),
    ),
    HttpFunction(
        "registry-moderation",
        REGISTRY,
        "registry_moderation",
        (
            "/publishers/{publisher_id}/ban",
            "/publishers/{publisher_id}/unban",
            "/publishers/{publisher_id}/nodes/{node_id}/ban",
            "/publishers/{publisher_id}/nodes/{node_id}/unban",
            "/admin/**",
        ),
    ),
    HttpFunction(
        "registry-publishing", REGISTRY, "registry_publishing", ("/users", "/users/**", "/publishers", "/publishers/**")
    ),
    HttpFunction(
        "registry-community",
        REGISTRY,
        "registry_community",
        ("/nodes/{node_id}/reviews", "/nodes/{node_id}/translations"),
    ),
    HttpFunction(
        "registry-comfy-nodes",
        REGISTRY,
        "registry_comfy_nodes",
        (
            "/nodes/{node_id}/versions/{version}/comfy-nodes",
            "/nodes/{node_id}/versions/{version}/comfy-nodes/**",
            "/comfy-nodes",
            "/comfy-nodes/**",
            "/security-scan",
            "/nodes/reindex",
            "/nodes/update-github-stars",
        ),
    ),
    HttpFunction(
        "registry-ci",
        REGISTRY,
        "registry_ci",
        ("/upload-artifact", "/gitcommit", "/gitcommitsummary", "/workflowresult/**", "/branch"),
    ),
    # The ComfyUI release feed: public reads, and GitHub's signed release webhook.
    HttpFunction("registry-releases", REGISTRY, "registry_releases", ("/releases",)),
    # The public reads and install, and every path no template above names.
    HttpFunction("registry", REGISTRY, "registry", ()),
)
DEFAULT = "registry"


def _regex(template: str) -> re.Pattern[str]:
    """`{name}` one segment, a trailing `/**` any rest (none included); any character may be in a segment, a line
    feed too, as the load balancer sees paths."""
    pattern = re.escape(template).replace(r"/\*\*", "(?:/.*)?")
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", pattern)
    return re.compile(f"{pattern}\\Z", re.DOTALL)


_RULES = [(_regex(t), fn.name) for fn in HTTP_FUNCTIONS for t in fn.paths]


# What starts a deployed function: `http` is public behind the load balancer; `scheduler` is a private HTTP
# endpoint that Cloud Scheduler calls; `storage` is the uploads bucket's object.finalized CloudEvent; `pubsub` is
# a push subscription on registry-events; `tasks` is a private HTTP endpoint that a Cloud Tasks queue calls.
# terraform/functions.tf and cloudbuild.yaml deploy each kind.
Trigger = Literal["http", "scheduler", "storage", "pubsub", "tasks"]


@dataclass(frozen=True)
class Function:
    """One deployed Cloud Function: an entry point of a folder, and what starts it."""

    name: str
    source: str
    entry_point: str
    trigger: Trigger


# Entry points no path reaches (jobs and event handlers). Adding one is one line here, one entry in
# terraform/functions.tf and one deploy step in cloudbuild.yaml; tests/deploy names whichever is missing.
BACKGROUND_FUNCTIONS: tuple[Function, ...] = (
    Function("registry-outbox-sweep", "functions/registry", "registry_outbox_sweep", "scheduler"),
    Function("scanner", "functions/scanner", "scanner", "storage"),
    Function("scanner-sweep", "functions/scanner", "scanner_sweep", "scheduler"),
    Function("scanner-release", "functions/scanner", "scanner_release", "pubsub"),
    Function("scanner-advisories-refresh", "functions/scanner", "scanner_advisories_refresh", "scheduler"),
    Function("indexer", "functions/indexer", "indexer", "pubsub"),
    Function("indexer-reindex", "functions/indexer", "indexer_reindex", "scheduler"),
    Function("billing-reconcile", "functions/billing", "billing_reconcile", "scheduler"),
    Function("billing-holds-sweep", "functions/billing", "billing_holds_sweep", "scheduler"),
    Function("billing-usage-export", "functions/billing", "billing_usage_export", "tasks"),
    Function("proxy-job-settle", "functions/proxy", "proxy_job_settle", "tasks"),
    Function("proxy-jobs-sweep", "functions/proxy", "proxy_jobs_sweep", "scheduler"),
)


def deployed_functions() -> tuple[Function, ...]:
    """Every Cloud Function that is deployed: the HTTP surfaces, then the background entry points."""
    http = tuple(Function(fn.name, fn.source, fn.entry_point, "http") for fn in HTTP_FUNCTIONS)
    return http + BACKGROUND_FUNCTIONS


def function_for(path: str) -> str:
    """Which function the load balancer sends `path` to."""
    for pattern, name in _RULES:
        if pattern.match(path):
            return name
    return DEFAULT


def lb_template(template: str) -> str:
    """A template in the load balancer's syntax (`{name=*}` for one segment)."""
    return re.sub(r"\{([a-z_]+)\}", r"{\1=*}", template)


def url_map() -> dict[str, object]:
    """The load balancer's URL map, as Terraform variables: one route rule per template, in matching order."""
    templates = [(t, fn.name) for fn in HTTP_FUNCTIONS for t in fn.paths]
    return {
        "default_function": DEFAULT,
        "route_rules": [
            {"priority": i + 1, "function": name, "template": lb_template(t)} for i, (t, name) in enumerate(templates)
        ],
        "functions": {fn.name: {"source": fn.source, "entry_point": fn.entry_point} for fn in HTTP_FUNCTIONS},
    }


def render() -> str:
    return json.dumps({"url_map": url_map()}, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
