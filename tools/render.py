"""Render what deploys the functions from the one table in shared/routing.py: `python -m tools.render` rewrites

- terraform/url_map.auto.tfvars.json: the load balancer's route rules (which function serves which paths);
- terraform/functions.auto.tfvars.json: every deployed function's folder, entry point and trigger (var.deployed,
  which terraform/functions.tf merges with each function's settings);
- cloudbuild.yaml: one deploy step per function, after the test, package and migrate steps.

tests/deploy checks that the committed files are what this renders, so the table cannot drift from them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared import routing
from tools.package import _folder_name

ROOT = Path(__file__).resolve().parent.parent
URL_MAP = ROOT / "terraform" / "url_map.auto.tfvars.json"
FUNCTIONS = ROOT / "terraform" / "functions.auto.tfvars.json"
CLOUDBUILD = ROOT / "cloudbuild.yaml"

_HEAD = """\
# Rendered by `python -m tools.render` from shared/routing.py: edit there (or the template in tools/render.py).
#
# Lint and test, package, migrate, then deploy. A push runs this once per function folder that changed (one
# trigger per folder in terraform/cloudbuild.tf, _FUNCTION naming the folder); `_FUNCTION=<function name>` deploys
# that function alone, `_FUNCTION=all` everything.
# The trigger passes this environment's values (terraform output cloudbuild_substitutions); the defaults below
# are the production layout.
#
# Each deploy step ships build/<folder>/ as one Cloud Function with its entry point, runtime and trigger: the
# same ones as terraform/functions.tf, which creates the function and owns its other settings.
substitutions:
  _FUNCTION: all
  _REGION: us-central1
  _RUNTIME: python311
  _POOL: registry-deploy
  _MIGRATE_URL: migrate-database-url
  _DB_APP_USERS: ""
  _UPLOADS: comfy-registry-prod-registry-uploads
  _UPLOADS_WHERE: us

options:
  # The private pool is peered with the VPC: the migrate step reaches Cloud SQL's private IP.
  pool:
    name: projects/$PROJECT_ID/locations/${_REGION}/workerPools/${_POOL}
  # Required when the build runs as a user-managed service account (the deployer).
  logging: CLOUD_LOGGING_ONLY

availableSecrets:
  secretManager:
    - versionName: projects/$PROJECT_ID/secrets/${_MIGRATE_URL}/versions/latest
      env: DATABASE_URL

steps:
  # ruff, mypy and the whole suite, as CI runs it (installs PostgreSQL from Debian's packages).
  - id: test
    name: python:3.11-bookworm
    entrypoint: bash
    args: [.ci/run]

  # build/<folder>/: the folder, shared/, its requirements.txt and a main.py re-exporting its entry points.
  - id: package
    name: python:3.11-bookworm
    entrypoint: make
    args: [package]

  # Alembic upgrade under an advisory lock, then each function's IAM database user gets its profile's table rights.
  - id: migrate
    name: python:3.11-bookworm
    entrypoint: /workspace/.venv/bin/python # made by the test step, in the same image
    secretEnv: [DATABASE_URL]
    env: [APP_ENV=production, BLOB_BACKEND=gcs]
    args:
      - -m
      - tools.migrate
      - --grant=${_DB_APP_USERS}
"""

_TRIGGER = {
    "http": ["--trigger-http # public behind the load balancer (ingress: internal and load balancer only)"],
    "scheduler": ["--trigger-http # private: Cloud Scheduler calls it with an OIDC token"],
    "pubsub": ["--trigger-http # private: its registry-events push subscription (terraform/pubsub.tf) calls it"],
    "tasks": ["--trigger-http # private: its Cloud Tasks queue (terraform/tasks.tf) calls it as tasks-invoker"],
    "storage": [
        "# The uploads bucket's object.finalized, delivered by Eventarc as fn-invoker and retried until it succeeds:",
        "# the trigger of terraform/functions.tf, given in full because gcloud resets what it is not given.",
        "--trigger-event-filters=type=google.cloud.storage.object.v1.finalized",
        "--trigger-event-filters=bucket=${_UPLOADS}",
        "--trigger-location=${_UPLOADS_WHERE}",
        "--trigger-service-account=fn-invoker@$PROJECT_ID.iam.gserviceaccount.com",
        "--retry",
    ],
}


def _step(fn: routing.Function) -> str:
    lines = [
        "",
        f"  - id: deploy-{fn.name}",
        "    waitFor: [migrate]",
        "    name: gcr.io/google.com/cloudsdktool/cloud-sdk:slim",
        "    entrypoint: bash",
        "    env:",
        "      - SELECTED=${_FUNCTION}",
        "      - REGION=${_REGION}",
        "    args:",
        "      - tools/deploy_function.sh",
        f"      - {_folder_name(fn.source)} # folder",
        f"      - {fn.name} # function",
        f"      - --entry-point={fn.entry_point}",
        "      - --runtime=${_RUNTIME}",
    ]
    for flag in _TRIGGER[fn.trigger]:
        lines.append(f"      {flag}" if flag.startswith("#") else f"      - {flag}")
    return "\n".join(lines) + "\n"


def cloudbuild() -> str:
    return _HEAD + "".join(_step(fn) for fn in routing.deployed_functions())


def functions_tfvars() -> str:
    deployed = {
        fn.name: {"source": _folder_name(fn.source), "entry_point": fn.entry_point, "trigger": fn.trigger}
        for fn in routing.deployed_functions()
    }
    return json.dumps({"deployed": deployed}, indent=2, sort_keys=True) + "\n"


def rendered() -> dict[Path, str]:
    return {URL_MAP: routing.render(), FUNCTIONS: functions_tfvars(), CLOUDBUILD: cloudbuild()}


def main() -> int:
    for path, text in rendered().items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
