"""Static checks of terraform/: every file parses, `terraform fmt` is clean, and checkov finds nothing.

`terraform validate` is not run: it needs the providers, which `terraform init` downloads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import hcl2
import pytest

from tests.deploy.support import ROOT, TERRAFORM, tf_files


def test_every_terraform_file_parses() -> None:
    files = [*tf_files(), *sorted(TERRAFORM.glob("*.tfvars"))]
    assert len(files) > 5
    for path in files:
        with path.open() as f:
            assert isinstance(hcl2.load(f), dict), path
    json.loads((TERRAFORM / "url_map.auto.tfvars.json").read_text())


def test_both_environments_set_every_variable_without_a_default() -> None:
    required = set()
    for path in tf_files():
        with path.open() as f:
            for block in hcl2.load(f).get("variable", []):
                for name, body in block.items():
                    if "default" not in body:
                        required.add(name.strip('"'))
    required -= {"url_map", "deployed"}  # *.auto.tfvars.json, rendered from shared/routing.py
    for env in ("staging", "production"):
        with (TERRAFORM / f"{env}.tfvars").open() as f:
            given = set(hcl2.load(f))
        assert required <= given, f"{env}.tfvars lacks {required - given}"


def test_terraform_fmt() -> None:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not installed here; the parse test above still covers syntax")
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"run `terraform fmt terraform/`:\n{result.stdout}{result.stderr}"


def _checkov() -> str | None:
    candidates = [os.environ.get("CHECKOV"), str(ROOT / ".local/tools/checkov/bin/checkov"), shutil.which("checkov")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def test_checkov_finds_nothing_unexplained(capsys: pytest.CaptureFixture[str]) -> None:
    binary = _checkov()
    if binary is None:
        pytest.skip("checkov is not installed: `make checkov` puts it in .local/tools/checkov (make unit does)")
    started = time.perf_counter()
    result = subprocess.run(
        [binary, "-d", str(TERRAFORM), "--framework", "terraform", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = json.loads(result.stdout)
    failed = report["results"]["failed_checks"]
    listing = "\n".join(f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}" for c in failed)
    assert not failed, f"checkov findings (fix them or skip with #checkov:skip=ID:reason):\n{listing}"
    assert report["summary"]["passed"] > 50
    assert report["summary"]["parsing_errors"] == 0
    # Every exception is written down with its reason, in the .tf file beside the resource.
    for skipped in report["results"]["skipped_checks"]:
        reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.strip()) > 20, f"{skipped['check_id']} on {skipped['resource']} is skipped without a reason"
    with capsys.disabled():
        print(
            f"\n[deploy] checkov: {report['summary']['passed']} passed, "
            f"{len(report['results']['skipped_checks'])} skipped with reasons, "
            f"{time.perf_counter() - started:.1f}s"
        )
