"""tools/deploy_function.sh, each deploy step of cloudbuild.yaml, against a stand-in gcloud that logs its calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shared import routing
from tests.deploy.support import DEPLOY_SCRIPT, ROOT, deploy_steps
from tools import package

FAKE_GCLOUD = """#!/usr/bin/env bash
echo "$*" >> "$GCLOUD_LOG"
if [[ "$1 $2" == "functions describe" ]]; then
  [[ -n ${EXISTS:-} ]] || { echo "NOT_FOUND: $3" >&2; exit 1; }
  echo "projects/p/locations/r/functions/$3"
fi
"""


def run(tmp_path: Path, selected: str, *, exists: bool) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD)
    gcloud.chmod(0o755)
    log = tmp_path / "gcloud.log"
    log.write_text("")
    env = {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "GCLOUD_LOG": str(log),
        "SELECTED": selected,
        "REGION": "us-central1",
        **({"EXISTS": "1"} if exists else {}),
    }
    args = ["registry", "registry-outbox-sweep", "--entry-point=registry_outbox_sweep", "--trigger-http"]
    result = subprocess.run(
        ["bash", str(ROOT / DEPLOY_SCRIPT), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result, log.read_text().splitlines()


@pytest.mark.parametrize("selected", ["registry", "all", "registry-outbox-sweep"])
def test_deploys_the_packaged_folder_when_its_folder_or_itself_is_selected(tmp_path: Path, selected: str) -> None:
    result, calls = run(tmp_path, selected, exists=True)
    assert result.returncode == 0, result.stderr
    assert calls[-1] == (
        "functions deploy registry-outbox-sweep --gen2 --region=us-central1 --source=build/registry --quiet "
        "--entry-point=registry_outbox_sweep --trigger-http"
    )


@pytest.mark.parametrize("selected", ["scanner", "registry-moderation"])
def test_skips_when_another_folder_or_function_is_selected(tmp_path: Path, selected: str) -> None:
    result, calls = run(tmp_path, selected, exists=True)
    assert result.returncode == 0
    assert calls == []
    assert "skip registry-outbox-sweep" in result.stdout


def test_refuses_a_function_terraform_has_not_created(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "registry", exists=False)
    assert result.returncode == 1
    assert "terraform apply" in result.stderr
    assert not any(c.startswith("functions deploy") for c in calls)


def _deployed_by_the_build(tmp_path: Path, selected: str) -> set[str]:
    """Runs every deploy step of cloudbuild.yaml as the build would with `_FUNCTION=selected`; the functions whose
    step called `gcloud functions deploy`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD)
    gcloud.chmod(0o755)
    log = tmp_path / "gcloud.log"
    log.write_text("")
    env = {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "GCLOUD_LOG": str(log),
        "SELECTED": selected,
        "REGION": "us-central1",
        "EXISTS": "1",
    }
    for step in deploy_steps().values():
        result = subprocess.run(
            ["bash", str(ROOT / DEPLOY_SCRIPT), step["folder"], *[str(a) for a in step["step"]["args"][2:]]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    return {line.split()[2] for line in log.read_text().splitlines() if line.startswith("functions deploy ")}


FOLDERS = sorted(package.folders())
SINGLE = sorted(fn.name for fn in routing.deployed_functions() if fn.name not in FOLDERS)


@pytest.mark.parametrize("selected", SINGLE)
def test_function_selects_that_function_alone(tmp_path: Path, selected: str) -> None:
    """`_FUNCTION=<function name>` deploys that one function, billing's jobs and its tasks target included."""
    assert _deployed_by_the_build(tmp_path, selected) == {selected}


@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_selects_its_functions(tmp_path: Path, folder: str) -> None:
    """A folder's trigger (`_FUNCTION=<folder>`, also the name of the folder's main function) deploys every function
    of that folder and nothing else."""
    assert _deployed_by_the_build(tmp_path, folder) == {fn.name for fn in package.folders()[folder]}


def test_all_selects_every_function(tmp_path: Path) -> None:
    assert _deployed_by_the_build(tmp_path, "all") == {fn.name for fn in routing.deployed_functions()}
