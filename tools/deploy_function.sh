#!/usr/bin/env bash
# One deploy step of cloudbuild.yaml: deploy_function.sh FOLDER NAME GCLOUD_DEPLOY_FLAGS...
# Ships build/FOLDER/ (from `make package`) as the code of the Cloud Function NAME, when this build deploys it
# (SELECTED is its folder, the function's own name, or "all"): a push deploys the folder that changed, and
# `_FUNCTION=registry-moderation` deploys that one function alone. Terraform creates every function with its settings (account, environment,
# secrets, network, ingress, IAM); `gcloud functions deploy` keeps the settings it is not given, so a step passes
# only the code, entry point, runtime and trigger, and refuses a function Terraform has not created.
set -euo pipefail
folder=$1
name=$2
shift 2
: "${SELECTED:?SELECTED (the _FUNCTION substitution) is required}" "${REGION:?REGION is required}"

if [[ $SELECTED != all && $SELECTED != "$folder" && $SELECTED != "$name" ]]; then
  echo "skip $name: this build deploys $SELECTED only"
  exit 0
fi
if ! gcloud functions describe "$name" --gen2 --region="$REGION" --format='value(name)' >/dev/null; then
  echo "$name does not exist: create it with terraform apply first (terraform owns its settings)" >&2
  exit 1
fi
gcloud functions deploy "$name" --gen2 --region="$REGION" --source="build/$folder" --quiet "$@"
