"""DEP-COMPROMISED: dependencies pinned, or allowed by their range, to a maliciously published release (OSV data),
and `scanner-advisories-refresh`, which downloads OSV's PyPI zip (here from a loopback server, never the internet),
keeps the malicious records and stores the snapshot the scanner then judges with."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from functions.scanner import osv
from functions.scanner.advisories_job import SNAPSHOT_PATH, forget_loaded
from functions.scanner.rules import advisories
from tests.conftest import ROOT, make_settings
from tests.scanner.support import findings, scan_files
from tests.support import RegistryClient, version_row, zip_bytes

NODE = "NODE_CLASS_MAPPINGS = {}\n"


def compromised(files: dict[str, str | bytes]) -> list[tuple[str, str]]:
    return [(f.severity.value, f.file) for f in findings({"__init__.py": NODE, **files}, "DEP-COMPROMISED")]


@pytest.mark.parametrize(
    ("requirement", "severity"),
    [
        ("ultralytics==8.3.41", "critical"),  # an exact pin of a compromised release
        ("ultralytics===8.3.46", "critical"),
        ("ultralytics==8.3.42 --hash=sha256:00ff", "critical"),
        ("ultralytics>=8.3.41,<8.3.43", "critical"),  # a range of bad releases only
        ("ultralytics>=8.3.0", "medium"),  # an open range with bad releases among good ones: reported, not flagged
        ("Ultralytics[export]>=8.3.45; python_version >= '3.8'", "medium"),
        ("ultralytics", "low"),
        ("aiohtt", "critical"),  # malicious in every version (MAL-2023-1578)
        ("3web==1.0.0", "critical"),
    ],
)
def test_requirements_that_can_install_a_compromised_release(requirement: str, severity: str) -> None:
    assert compromised({"requirements.txt": f"{requirement}\n"}) == [(severity, "requirements.txt")]


@pytest.mark.parametrize(
    "requirement",
    ["ultralytics==8.3.40", "ultralytics>=8.3.47", "ultralytics<8.3.41", "ultralytics!=8.3.41,!=8.3.42,!=8.3.45,"
     "!=8.3.46,>=8.3", "ultralytics @ https://github.com/ultralytics/ultralytics/archive/v8.3.40.zip", "3web==1.0.1"],
)  # fmt: skip
def test_benign_look_alikes_are_not_reported(requirement: str) -> None:
    assert compromised({"requirements.txt": f"{requirement}\n"}) == []


def test_a_pinned_good_version_passes_and_an_open_range_is_reported_not_flagged() -> None:
    report = scan_files(
        {
            "__init__.py": NODE,
            "requirements.txt": "ultralytics==8.3.40\n",
            "pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["ultralytics>=8.3.0"]\n',
        }
    )
    assert report.verdict == "clean", report.findings
    assert [(f.rule, f.severity.value, f.file) for f in report.findings if f.rule == "DEP-COMPROMISED"] == [
        ("DEP-COMPROMISED", "medium", "pyproject.toml")
    ]


def test_pyproject_poetry_and_install_time_pip_are_judged() -> None:
    pyproject = (
        '[project]\nname = "x"\nversion = "1"\noptional-dependencies = { gpu = ["ultralytics==8.3.45"] }\n'
        '[tool.poetry.dependencies]\nultralytics = "8.3.46"\n'
    )
    install = (
        "import subprocess, sys\n"
        "subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'ultralytics==8.3.42'])\n"
    )
    found = compromised({"pyproject.toml": pyproject, "install.py": install})
    assert sorted(found) == [("critical", "install.py"), ("critical", "pyproject.toml"), ("critical", "pyproject.toml")]
    assert scan_files({"__init__.py": NODE, "install.py": install}).verdict == "suspicious"


# -- OSV's records ----------------------------------------------------------------------------------------------
MAL = {
    "id": "MAL-2099-1",
    "summary": "Malicious code in comfy-helperz (PyPI)",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "comfy-helperz"}, "versions": ["0.1.0", "0.2.0"]}],
}
GHSA_MALWARE = {
    "id": "GHSA-aaaa-bbbb-cccc",
    "aliases": ["CVE-2099-2"],
    "summary": "Trojanised release",
    "database_specific": {"cwe_ids": ["CWE-506"]},
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "tqdmx"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.2"}]}],
        }
    ],
}
PYSEC_COMPROMISE = {
    "id": "PYSEC-2099-3",
    "details": "Versions 1.4.1 and 1.4.2 were compromised: a miner was injected into the PyPI release artifacts.",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "yolo-utils"}, "versions": ["1.4.1", "1.4.2"]}],
}
ORDINARY_VULNERABILITY = {
    "id": "PYSEC-2099-4",
    "details": "A malicious user could craft a request that contains malicious code in a header; fixed in 2.0.",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["1.0.0"]}],
}
WITHDRAWN = {**MAL, "id": "MAL-2099-5", "withdrawn": "2099-01-01T00:00:00Z"}
NPM = {"id": "MAL-2099-6", "affected": [{"package": {"ecosystem": "npm", "name": "leftpadx"}, "versions": ["1"]}]}


def test_only_malicious_and_compromised_pypi_records_are_kept() -> None:
    kept = [r["id"] for r in (MAL, GHSA_MALWARE, PYSEC_COMPROMISE, ORDINARY_VULNERABILITY, WITHDRAWN, NPM)
            if osv.is_malicious(r) and osv.compact(r)]  # fmt: skip
    assert kept == ["MAL-2099-1", "GHSA-aaaa-bbbb-cccc", "PYSEC-2099-3"]


def test_the_shipped_snapshot_holds_the_ultralytics_compromise() -> None:
    index = advisories.shipped()
    (ultralytics,) = index.by_package["ultralytics"]
    assert ultralytics.id == "PYSEC-2024-154"
    assert sorted(map(str, ultralytics.versions)) == ["8.3.41", "8.3.42", "8.3.45", "8.3.46"]
    assert {"aiohtt", "3web", "0requests", "azureml-contrib-daskonbatch"} <= set(index.by_package)


def osv_zip(*records: dict[str, Any], junk: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
        if junk:
            archive.writestr("BROKEN-1.json", "{not json")
    return buffer.getvalue()


class Feed(ThreadingHTTPServer):
    """OSV's bucket on 127.0.0.1: serves `body` at /PyPI/all.zip with `status`."""

    body = b""
    status = 200
    requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/PyPI/all.zip"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Feed = self.server  # type: ignore[assignment]
        server.requests += 1
        found = self.path == "/PyPI/all.zip"
        self.send_response(server.status if found else 404)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(server.body) if found else 0))
        self.end_headers()
        if found:
            self.wfile.write(server.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def feed() -> Iterator[Feed]:
    server = Feed(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def refresh_app(api: RegistryClient, feed: Feed) -> Iterator[Any]:
    import functions_framework

    api.use(settings=api.container.settings.model_copy(update={"scan_advisories_url": feed.url}))
    forget_loaded()
    yield functions_framework.create_app(
        "scanner_advisories_refresh", str(ROOT / "functions/scanner/main.py"), "http"
    ).test_client()
    advisories.use(None)
    forget_loaded()


def pack_needing(requirement: str) -> bytes:
    return zip_bytes({"__init__.py": NODE, "requirements.txt": f"{requirement}\n"})


def test_the_refresh_stores_the_snapshot_the_scanner_then_judges_with(
    api: RegistryClient, feed: Feed, refresh_app: Any
) -> None:
    feed.body = osv_zip(MAL, GHSA_MALWARE, PYSEC_COMPROMISE, ORDINARY_VULNERABILITY, NPM)
    r = refresh_app.post("/")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["counts"] == {"bytes": len(feed.body), "records": 6, "skipped": 1, "kept": 3, "stored": 1}
    stored = json.loads(api.container.blobs.read_data(SNAPSHOT_PATH) or b"")
    assert [rec["id"] for rec in stored["records"]] == ["GHSA-aaaa-bbbb-cccc", "MAL-2099-1", "PYSEC-2099-3"]
    token = api.owner_with_token()
    data = api.publish("alice-pub", "detector", "1.0.0", token, upload=False)
    api.upload(data["signedUrl"], pack_needing("yolo-utils==1.4.2"))
    row = version_row(api, "detector")
    assert row.status == "flagged" and "DEP-COMPROMISED" in row.status_reason
    data = api.publish("alice-pub", "detector", "1.0.1", token, upload=False)
    api.upload(data["signedUrl"], pack_needing("yolo-utils==1.4.3"))  # the fixed release
    assert version_row(api, "detector", "1.0.1").status == "active"


def test_a_feed_that_fails_or_keeps_nothing_leaves_the_stored_snapshot(
    api: RegistryClient, feed: Feed, refresh_app: Any
) -> None:
    feed.body = osv_zip(MAL)
    assert refresh_app.post("/").status_code == 200
    before = api.container.blobs.read_data(SNAPSHOT_PATH)
    feed.body = osv_zip(ORDINARY_VULNERABILITY)
    assert refresh_app.post("/").get_json()["counts"]["stored"] == 0
    feed.status = 503
    assert refresh_app.post("/").status_code == 500  # the scheduler's next run tries again
    assert api.container.blobs.read_data(SNAPSHOT_PATH) == before and feed.requests == 3


def test_without_a_readable_stored_snapshot_the_shipped_one_judges(api: RegistryClient) -> None:
    api.container.blobs.write_data(SNAPSHOT_PATH, b"{ damaged")
    forget_loaded()
    token = api.owner_with_token()
    data = api.publish("alice-pub", "detector", "1.0.0", token, upload=False)
    api.upload(data["signedUrl"], pack_needing("ultralytics==8.3.41"))
    row = version_row(api, "detector")
    assert row.status == "flagged" and "DEP-COMPROMISED" in row.status_reason
    forget_loaded()


def test_the_local_stack_runs_the_refresh_as_a_job(tmp_path: Path, feed: Feed) -> None:
    from local.stack import LocalStack
    from shared.bootstrap import set_container

    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "data", SCAN_ADVISORIES_URL=feed.url)
    feed.body = osv_zip(MAL)
    stack = LocalStack(settings)
    try:
        assert "scanner-advisories-refresh" in stack.on_demand  # never on the timer: it downloads OSV's data
        assert stack.jobs["scanner-advisories-refresh"]()["stored"] == 1
        assert b"MAL-2099-1" in (stack.container.blobs.read_data(SNAPSHOT_PATH) or b"")
    finally:
        set_container(None)
        advisories.use(None)
        forget_loaded()
