"""The one routing table: which function serves which paths. The local server uses it, Terraform renders it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class HttpFunction:
    name: str  # the deployed Cloud Function's name
    source: str  # its folder in the repository
    entry_point: str  # the function in its main.py
    paths: tuple[str, ...]  # load-balancer path patterns; empty for the default service


# Adding an HTTP function is one line here (plus its folder); the default takes every other path.
HTTP_FUNCTIONS: tuple[HttpFunction, ...] = (HttpFunction("registry", "functions/registry", "registry", ()),)
DEFAULT = "registry"

# What starts a deployed function: `http` is public behind the load balancer; `scheduler` is a private HTTP
# endpoint that Cloud Scheduler calls; `storage` is the uploads bucket's object.finalized CloudEvent; `pubsub` is
# a push subscription on registry-events. terraform/functions.tf and cloudbuild.yaml deploy each kind.
Trigger = Literal["http", "scheduler", "storage", "pubsub"]


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
    Function("indexer", "functions/indexer", "indexer", "pubsub"),
    Function("indexer-reindex", "functions/indexer", "indexer_reindex", "scheduler"),
)


def deployed_functions() -> tuple[Function, ...]:
    """Every Cloud Function that is deployed: the HTTP surfaces, then the background entry points."""
    http = tuple(Function(fn.name, fn.source, fn.entry_point, "http") for fn in HTTP_FUNCTIONS)
    return http + BACKGROUND_FUNCTIONS


def function_for(path: str) -> str:
    for fn in HTTP_FUNCTIONS:
        for pattern in fn.paths:
            prefix = pattern.removesuffix("*")
            if (pattern.endswith("*") and path.startswith(prefix)) or path == pattern:
                return fn.name
    return DEFAULT


def url_map() -> dict[str, object]:
    """The load balancer's URL map, as Terraform variables."""
    return {
        "default_function": DEFAULT,
        "path_rules": [{"function": fn.name, "paths": list(fn.paths)} for fn in HTTP_FUNCTIONS if fn.paths],
        "functions": {fn.name: {"source": fn.source, "entry_point": fn.entry_point} for fn in HTTP_FUNCTIONS},
    }


def render() -> str:
    return json.dumps({"url_map": url_map()}, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
