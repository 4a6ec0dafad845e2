"""`python -m functions.scanner PATH`, run as a publisher or an admin would, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.scanner.support import CORPUS, make_zip, sample_zip

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-m", "functions.scanner", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else {})


def test_a_clean_folder_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text(
        "class A:\n    @classmethod\n    def INPUT_TYPES(cls):\n        return {'required': {}}\n"
        "    RETURN_TYPES = ()\n    FUNCTION = 'f'\nNODE_CLASS_MAPPINGS = {'A': A}\n"
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "hook.exe").write_bytes(b"MZ")  # never published, so never scanned
    code, report = run(tmp_path)
    assert code == 0
    assert report["verdict"] == "clean" and report["findings"] == []
    assert [n["name"] for n in report["extraction"]["nodes"]] == ["A"]
    assert len(report["sha256"]) == 64 and report["size"] > 0


def test_a_malicious_zip_exits_one(tmp_path: Path) -> None:
    path = tmp_path / "node.zip"
    path.write_bytes(sample_zip(CORPUS / "malicious" / "llmvision_stealer"))
    code, report = run(path, "--no-nodes", "--compact")
    assert code == 1
    assert report["verdict"] == "suspicious"
    assert {"CREDENTIAL-ACCESS", "EXFIL-ENDPOINT"} <= {f["rule"] for f in report["findings"]}
    assert "nodes" not in report["extraction"]


def test_an_unreadable_archive_exits_two(tmp_path: Path) -> None:
    path = tmp_path / "node.zip"
    path.write_bytes(make_zip({"../escape.py": "x"}))
    code, report = run(path)
    assert code == 2 and report["verdict"] == "unreadable" and "traversal" in report["reason"]
    assert run(tmp_path / "missing.zip")[0] == 2


def test_the_threshold_can_be_lowered(tmp_path: Path) -> None:
    path = tmp_path / "node.zip"
    path.write_bytes(make_zip({"__init__.py": "NODE_CLASS_MAPPINGS = {}\nx = __import__(name)\n"}))
    assert run(path)[0] == 0
    code, report = run(path, "--flag-at", "medium")
    assert code == 1 and report["flag_at"] == "medium"
