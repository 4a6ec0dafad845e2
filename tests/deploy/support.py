"""Reading the deployment files the way the deploy tests compare them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import yaml

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
DEPLOY_SCRIPT = "tools/deploy_function.sh"


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals ('"registry"'); expressions stay '${...}'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.glob("*.tf"))


@cache
def parse_tf(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return dict(hcl2.load(f))


def tf_locals() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in tf_files():
        for block in parse_tf(path).get("locals", []):
            merged.update(block)
    return merged


def tf_resources(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, body) of every `resource "<kind>" "<name>"` in terraform/."""
    found = []
    for path in tf_files():
        for block in parse_tf(path).get("resource", []):
            for rtype, named in block.items():
                if unquote(rtype) != kind:
                    continue
                for name, body in named.items():
                    found.append((unquote(name), body))
    return found


def tf_functions() -> dict[str, dict[str, Any]]:
    """local.functions of terraform/functions.tf as Terraform builds it: var.deployed (functions.auto.tfvars.json,
    rendered from shared/routing.py) over local.function_defaults, merged with local.function_settings, string
    literals unquoted."""
    deployed = json.loads((TERRAFORM / "functions.auto.tfvars.json").read_text())["deployed"]
    defaults = {key: unquote(value) for key, value in tf_locals()["function_defaults"].items()}
    settings = tf_function_settings()
    return {name: {**defaults, **fn, **settings.get(name, {})} for name, fn in deployed.items()}


def tf_function_settings() -> dict[str, dict[str, Any]]:
    """local.function_settings of terraform/functions.tf, string literals unquoted."""
    return {
        unquote(name): {key: unquote(value) for key, value in spec.items()}
        for name, spec in tf_locals()["function_settings"].items()
    }


def tf_variable_default(name: str) -> Any:
    for path in tf_files():
        for block in parse_tf(path).get("variable", []):
            for key, body in block.items():
                if unquote(key) == name:
                    return unquote(body.get("default"))
    raise KeyError(name)


@cache
def cloudbuild() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "cloudbuild.yaml").read_text()))


def deploy_steps() -> dict[str, dict[str, Any]]:
    """The deploy steps of cloudbuild.yaml by function name: id, folder and gcloud flags."""
    steps: dict[str, dict[str, Any]] = {}
    for step in cloudbuild()["steps"]:
        args = [str(a) for a in step.get("args", [])]
        if not args or args[0] != DEPLOY_SCRIPT:
            continue
        folder, name, *flags = args[1:]
        if name in steps:
            raise AssertionError(f"two deploy steps for {name}")
        steps[name] = {"id": step.get("id"), "folder": folder, "flags": flags, "step": step}
    return steps


def flag(flags: list[str], name: str) -> str | None:
    prefix = f"{name}="
    values = [f.removeprefix(prefix) for f in flags if f.startswith(prefix)]
    return values[0] if values else None
