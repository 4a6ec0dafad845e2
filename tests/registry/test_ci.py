"""The CI endpoints of ci.comfy.org: same shapes as the old service, but every call needs a credential."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from functions.registry.ci import serializers as serializers_ci
from functions.registry.ci.schemas import MachineStatsIn, UploadArtifactIn
from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.auth import secrets
from shared.db.models import CiArtifact, CiWorkflowResult, GitCommit, User
from shared.db.types import utcnow
from shared.errors import Forbidden, Unauthenticated
from shared.http.router import Route
from tests.contract import load_spec, validate_schema
from tests.support import RegistryClient

KEY = "ci-key-0123456789abcdef"
OTHER_KEY = "ci-key-second"
SERVICE = "ci-runner@demo.iam.gserviceaccount.com"
COMMIT = "a" * 40
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def service_token(email: str = SERVICE, signature: str = "sig") -> str:
    """A token shaped like a Google ID token; the fake verifier below reads the e-mail back."""
    return f"{_b64({'alg': 'RS256'})}.{_b64({'iss': 'https://accounts.google.com', 'email': email})}.{signature}"


class FakeServiceVerifier:
    """Stands in for ServiceAccountVerifier: only SERVICE is allowed, a token not from Google is rejected."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def verify(self, authorization: str | None, path: str) -> str:
        self.calls.append(path)
        token = (authorization or "").removeprefix("Bearer ")
        if token.endswith(".forged"):
            raise Unauthenticated("Invalid service token", code="invalid_token")
        payload = token.split(".")[1]
        email = str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["email"])
        if email != SERVICE:
            raise Forbidden("This service account may not call this endpoint", code="service_account_not_allowed")
        return email


@pytest.fixture
def ci(api: RegistryClient) -> RegistryClient:
    digests = f"{secrets.digest(KEY).upper()}, {secrets.digest(OTHER_KEY)}"
    settings = api.container.settings.model_copy(update={"ci_upload_key_digests": digests})
    api.use(settings=settings, service_verifier=FakeServiceVerifier())
    return api


def payload(**overrides: Any) -> dict[str, Any]:
    """What comfy-action's action.py sends (no `author`; `pr_number` null outside pull requests)."""
    body: dict[str, Any] = {
        "repo": "comfyanonymous/ComfyUI",
        "job_id": "test-job",
        "run_id": "9876543210",
        "os": "linux",
        "cuda_version": "12.1",
        "bucket_name": "comfy-ci-results",
        "output_files_gcs_paths": "output-files/run-1/a.png,output-files/run-1/b.png",
        "comfy_logs_gcs_path": "logs/run-1",
        "commit_hash": COMMIT,
        "commit_time": "2024-06-01T12:34:56+02:00",
        "commit_message": "Fix the sampler",
        "workflow_name": "default.json",
        "branch_name": "master",
        "start_time": 1717238000,
        "end_time": 1717238100,
        "avg_vram": 2048,
        "peak_vram": 4096,
        "pr_number": None,
        "job_trigger_user": "comfyanonymous",
        "comfy_run_flags": "--force-fp16",
        "python_version": "3.11",
        "pytorch_version": "stable",
        "status": "WorkflowRunStatusCompleted",
        "machine_stats": {
            "machine_name": "runner-1",
            "os_version": "Linux 6.1",
            "gpu_type": "NVIDIA L4",
            "cpu_capacity": "8 cores",
            "initial_cpu": "4 cores available",
            "memory_capacity": "31.00 GB",
            "initial_ram": "29.00 GB available",
            "vram_time_series": {"0.0 seconds": "0 MiB,0.0,100 MiB,1.00", "total": "24576 MiB,1000 MiB"},
            "disk_capacity": "100.00 GB",
            "initial_disk": "50.00 GB available",
            "pip_freeze": "torch==2.3.0\n",
        },
    }
    body.update(overrides)
    return body


def upload(api: RegistryClient, key: str = KEY, **overrides: Any) -> None:
    r = api.post("/upload-artifact", json_body=payload(**overrides), headers={"X-CI-Key": key})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {}


def counts(api: RegistryClient) -> tuple[int, int, int]:
    """(commits, results, files) in the database."""
    with api.container.sessions() as s:
        commits = s.scalar(select(func.count()).select_from(GitCommit)) or 0
        runs = s.scalar(select(func.count()).select_from(CiWorkflowResult)) or 0
        files = s.scalar(select(func.count()).select_from(CiArtifact)) or 0
    return commits, runs, files


def results(api: RegistryClient, **query: Any) -> dict[str, Any]:
    r = api.get("/gitcommit", query=query, headers={"X-CI-Key": KEY})
    assert r.status_code == 200, r.get_data(as_text=True)
    return dict(r.get_json())


def set_user(api: RegistryClient, uid: str, **values: Any) -> None:
    api.get("/users", as_=uid)
    with api.container.sessions() as s:
        user = s.get(User, uid)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)
        s.commit()


# -- upload ---------------------------------------------------------------------------------------------------
def test_upload_records_commit_result_and_files(ci: RegistryClient, events: InProcessPublisher) -> None:
    upload(ci, repo="ComfyAnonymous/ComfyUI")
    with ci.container.sessions() as s:
        commit = s.scalars(select(GitCommit)).one()
        result = s.scalars(select(CiWorkflowResult)).one()
        files = s.scalars(select(CiArtifact).order_by(CiArtifact.created_at)).all()
    assert (commit.repo_name, commit.commit_hash, commit.branch_name) == ("comfyanonymous/comfyui", COMMIT, "master")
    assert commit.commit_timestamp.isoformat() == "2024-06-01T10:34:56+00:00"
    assert (commit.author, commit.pr_number) == ("", "")
    assert (result.git_commit_id, result.status, result.operating_system) == (commit.id, "COMPLETED", "linux")
    assert (result.run_id, result.job_id, result.avg_vram, result.peak_vram) == ("9876543210", "test-job", 2048, 4096)
    assert result.machine_stats is not None and result.machine_stats["gpu_type"] == "NVIDIA L4"
    assert [f.file_url for f in files] == [
        "https://storage.googleapis.com/comfy-ci-results/output-files/run-1/a.png",
        "https://storage.googleapis.com/comfy-ci-results/output-files/run-1/b.png",
    ]
    assert {f.file_type for f in files} == {"image"}
    sent = [json.loads(m.data) for m in events.delivered if m.attributes["event_type"] == "ci.result_uploaded"]
    assert len(sent) == 1 and sent[0]["payload"]["workflow_result_id"] == result.id
    assert sent[0]["payload"]["by"] == f"ci_key:{secrets.digest(KEY)[:12]}"
    assert KEY not in json.dumps(sent)


def test_upload_replaces_the_same_workflow_on_the_same_os_only(ci: RegistryClient) -> None:
    upload(ci, status="WorkflowRunStatusStarted")
    upload(ci, os="windows")
    upload(ci, workflow_name="sd3.json")
    assert counts(ci) == (1, 3, 6)
    upload(ci, status="WorkflowRunStatusFailed", output_files_gcs_paths="output-files/run-2/c.png")
    assert counts(ci) == (1, 3, 5)  # the old linux default.json result and its two files are gone
    with ci.container.sessions() as s:
        rows = s.scalars(
            select(CiWorkflowResult).where(
                CiWorkflowResult.operating_system == "linux", CiWorkflowResult.workflow_name == "default.json"
            )
        ).all()
    assert [r.status for r in rows] == ["FAILED"]


def test_commit_is_refreshed_keeping_author_and_pr_number(ci: RegistryClient) -> None:
    upload(ci, author="Ada", branch_name="123/merge")
    with ci.container.sessions() as s:
        commit = s.scalars(select(GitCommit)).one()
    assert (commit.author, commit.pr_number, commit.branch_name) == ("Ada", "123", "123/merge")
    upload(ci, os="mac", commit_message="Fix the sampler (amended)", branch_name="master")
    with ci.container.sessions() as s:
        commit = s.scalars(select(GitCommit)).one()
    assert (commit.author, commit.pr_number) == ("Ada", "123")
    assert (commit.commit_message, commit.branch_name) == ("Fix the sampler (amended)", "master")
    upload(ci, os="win", pr_number="77")
    upload(ci, commit_hash="b" * 40)
    assert counts(ci)[0] == 2
    with ci.container.sessions() as s:
        assert s.scalar(select(GitCommit.pr_number).where(GitCommit.commit_hash == COMMIT)) == "77"


def test_upload_accepts_the_minimal_body_and_nulls(ci: RegistryClient) -> None:
    required = {k: payload()[k] for k in UploadArtifactIn.model_json_schema()["required"]}
    nulls: dict[str, Any] = {k: None for k in payload() if k not in required}
    upload(ci, **nulls)
    with ci.container.sessions() as s:
        result = s.scalars(select(CiWorkflowResult)).one()
    assert (result.machine_stats, result.avg_vram, result.cuda_version) == (None, None, "")
    assert counts(ci) == (1, 1, 0)
    # Paths without a bucket cannot become URLs: they are ignored, as before.
    upload(ci, os="mac", bucket_name=None)
    assert counts(ci) == (1, 2, 0)


def test_concurrent_uploads_of_one_commit_share_it(ci: RegistryClient) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda os_name: upload(ci, os=os_name), ["linux", "mac", "windows", "bsd"]))
    assert counts(ci) == (1, 4, 8)


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, "missing_token"),
        ({"X-CI-Key": "wrong"}, 401, "invalid_ci_key"),
        ({"X-CI-Key": ""}, 401, "missing_token"),
        ({"Authorization": f"Bearer {KEY}x"}, 401, "invalid_ci_key"),
        ({"Authorization": f"Basic {KEY}"}, 401, "invalid_token"),
        ({"Authorization": "Bearer not.a.jwt"}, 401, "invalid_ci_key"),
        ({"Authorization": f"Bearer {service_token('intruder@evil.iam.gserviceaccount.com')}"}, 403, None),
        ({"Authorization": f"Bearer {service_token(signature='forged')}"}, 401, "invalid_token"),
        ({"Authorization": "Bearer " + _b64({"a": 1}) + "." + _b64({"iss": "https://evil"}) + ".x"}, 401, None),
        # A wrong X-CI-Key is refused even when a good bearer comes with it.
        ({"X-CI-Key": "wrong", "Authorization": f"Bearer {KEY}"}, 401, "invalid_ci_key"),
    ],
)
def test_upload_refuses_bad_credentials(
    ci: RegistryClient, headers: dict[str, str], status: int, error: str | None
) -> None:
    r = ci.post("/upload-artifact", json_body=payload(), headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    if error:
        assert r.get_json()["error"] == error
    assert r.get_json()["message"]
    assert counts(ci) == (0, 0, 0)


@pytest.mark.parametrize("admin", [False, True])
def test_people_cannot_upload_not_even_admins(ci: RegistryClient, admin: bool) -> None:
    set_user(ci, "root", is_admin=True)
    for uid in ("alice", "root"):
        r = ci.post("/upload-artifact", as_=uid, admin=admin, json_body=payload())
        assert r.status_code == 403 and r.get_json()["error"] == "ci_uploader_required"
    assert counts(ci) == (0, 0, 0)


def test_upload_with_either_key_as_bearer_or_header(ci: RegistryClient) -> None:
    r = ci.post("/upload-artifact", json_body=payload(), headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert r.status_code == 200
    upload(ci, key=KEY, os="mac")
    assert counts(ci)[1] == 2


def test_upload_with_a_service_account(ci: RegistryClient, events: InProcessPublisher) -> None:
    r = ci.post("/upload-artifact", json_body=payload(), headers={"Authorization": f"Bearer {service_token()}"})
    assert r.status_code == 200 and r.get_json() == {}
    assert counts(ci) == (1, 1, 2)
    sent = [json.loads(m.data)["payload"] for m in events.delivered]
    assert sent[-1]["by"] == f"service_account:{SERVICE}"


def test_no_configured_key_accepts_nothing(api: RegistryClient) -> None:
    r = api.post("/upload-artifact", json_body=payload(), headers={"X-CI-Key": KEY})
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_ci_key"


@pytest.mark.parametrize(
    "change",
    [
        {"start_time": "abc"},
        {"start_time": "1717238000"},
        {"start_time": 1.5},
        {"end_time": None},
        {"avg_vram": 2**40},
        {"status": "WorkflowRunStatusExploded"},
        {"status": "COMPLETED"},
        {"commit_time": "2024-06-01"},
        {"commit_time": "2024-06-01T12:34:56"},
        {"commit_time": "yesterday"},
        {"commit_time": "2024-13-01T12:34:56Z"},
        {"repo": ""},
        {"repo": "x" * 513},
        {"commit_hash": None},
        {"pr_number": 12},
        {"machine_stats": "fast"},
        {"machine_stats": {"cpu_capacity": 8}},
        {"output_files_gcs_paths": ",".join(f"f{i}.png" for i in range(101))},
        {"output_files_gcs_paths": "x" * 2049},
    ],
)
def test_upload_bad_fields_are_400(ci: RegistryClient, change: dict[str, Any]) -> None:
    r = ci.post("/upload-artifact", json_body=payload(**change), headers={"X-CI-Key": KEY})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert counts(ci) == (0, 0, 0)


@pytest.mark.parametrize("missing", ["repo", "os", "commit_hash", "commit_time", "workflow_name", "status"])
def test_upload_missing_required_fields_are_400(ci: RegistryClient, missing: str) -> None:
    body = payload()
    del body[missing]
    r = ci.post("/upload-artifact", json_body=body, headers={"X-CI-Key": KEY})
    assert r.status_code == 400 and missing in r.get_json()["message"]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", "null"])
def test_upload_malformed_bodies_are_400(ci: RegistryClient, raw: str) -> None:
    r = ci.post("/upload-artifact", data=raw, headers={"X-CI-Key": KEY})
    assert r.status_code == 400
    assert counts(ci) == (0, 0, 0)


# -- reads: /gitcommit and /workflowresult ----------------------------------------------------------------------
def test_job_results_shape(ci: RegistryClient) -> None:
    upload(ci, author="Ada", branch_name="42/merge")
    body = results(ci)
    assert body["totalNumberOfPages"] == 1
    (job,) = body["jobResults"]
    with ci.container.sessions() as s:
        commit = s.scalars(select(GitCommit)).one()
    assert job["commit_id"] == commit.id and job["commit_hash"] == COMMIT
    assert job["commit_time"] == 1717238096
    assert job["git_repo"] == "comfyanonymous/comfyui" and job["pr_number"] == "42"
    assert (job["action_run_id"], job["action_job_id"], job["status"]) == (
        "9876543210",
        "test-job",
        "WorkflowRunStatusCompleted",
    )
    assert (job["start_time"], job["end_time"], job["avg_vram"], job["peak_vram"]) == (
        1717238000,
        1717238100,
        2048,
        4096,
    )
    assert (job["author"], job["comfy_run_flags"], job["python_version"]) == ("Ada", "--force-fp16", "3.11")
    assert job["storage_file"] == {
        "public_url": "https://storage.googleapis.com/comfy-ci-results/output-files/run-1/a.png"
    }
    assert job["machine_stats"] == payload()["machine_stats"]
    one = ci.get(f"/workflowresult/{job['id']}", headers={"X-CI-Key": KEY})
    assert one.status_code == 200 and one.get_json() == job


def test_results_without_files_or_stats_leave_them_out(ci: RegistryClient) -> None:
    upload(ci, output_files_gcs_paths=None, machine_stats=None)
    (job,) = results(ci)["jobResults"]
    assert "storage_file" not in job and "machine_stats" not in job


def test_job_results_filters_order_and_pages(ci: RegistryClient) -> None:
    for day in range(1, 6):
        commit = {"commit_hash": f"{day:040d}", "commit_time": f"2024-06-0{day}T00:00:00Z"}
        upload(ci, **commit, branch_name="master" if day <= 3 else "dev")
        upload(ci, **commit, branch_name="master" if day <= 3 else "dev", os="windows")
    upload(ci, repo="someone/Fork", commit_hash="f" * 40)
    body = results(ci, pageSize=4)
    assert body["totalNumberOfPages"] == 3 and len(body["jobResults"]) == 4
    assert [j["commit_hash"] for j in body["jobResults"]][::2] == [f"{5:040d}", f"{4:040d}"]
    assert len(results(ci, pageSize=4, page=3)["jobResults"]) == 2
    assert results(ci, page=9)["jobResults"] == []
    assert len(results(ci, operatingSystem="windows")["jobResults"]) == 5
    assert results(ci, workflowName="nope")["jobResults"] == []
    assert {j["commit_hash"] for j in results(ci, branch="dev")["jobResults"]} == {f"{4:040d}", f"{5:040d}"}
    assert len(results(ci, branch="dev")["jobResults"]) == 4
    fork = results(ci, repoName="SOMEONE/fork")["jobResults"]
    assert [j["git_repo"] for j in fork] == ["someone/fork"]
    commit_id = fork[0]["commit_id"]
    assert [j["commit_id"] for j in results(ci, repoName="someone/fork", commitId=commit_id)["jobResults"]] == [
        commit_id
    ]
    assert results(ci, commitId=commit_id)["jobResults"] == []  # the default repository is another one
    # Sizes are bounded: below 1 means the default, above the maximum means the maximum.
    assert results(ci, pageSize=0)["totalNumberOfPages"] == 1
    assert results(ci, pageSize=10_000)["totalNumberOfPages"] == 1


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/gitcommit", {"commitId": "not-a-uuid"}, 400),
        ("/gitcommit", {"commitId": UNKNOWN}, 404),
        ("/gitcommit", {"page": "x"}, 400),
        ("/gitcommit", {"pageSize": "ten"}, 400),
        ("/gitcommit", {"page": 10**7}, 400),
        ("/gitcommitsummary", {"page": "-"}, 400),
        ("/workflowresult/not-a-uuid", {}, 400),
        ("/workflowresult/1; drop table git_commits", {}, 400),
        (f"/workflowresult/{UNKNOWN}", {}, 404),
        ("/branch", {}, 400),
        ("/branch", {"repo_name": "  "}, 400),
    ],
)
def test_bad_read_inputs(ci: RegistryClient, path: str, query: dict[str, Any], status: int) -> None:
    upload(ci)
    r = ci.get(path, query=query, headers={"X-CI-Key": KEY})
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.get_json()["message"]


# -- reads: /gitcommitsummary and /branch -----------------------------------------------------------------------
def test_commit_summaries_with_failure_precedence(ci: RegistryClient) -> None:
    old, new = "1" * 40, "2" * 40
    upload(ci, commit_hash=old, commit_time="2024-01-01T00:00:00Z", author="Ada")
    upload(ci, commit_hash=old, commit_time="2024-01-01T00:00:00Z", workflow_name="b", status="WorkflowRunStatusFailed")
    upload(ci, commit_hash=old, commit_time="2024-01-01T00:00:00Z", os="mac")
    upload(ci, commit_hash=new, commit_time="2024-02-01T00:00:00Z", status="WorkflowRunStatusStarted")
    upload(ci, commit_hash=new, commit_time="2024-02-01T00:00:00Z", workflow_name="b")
    upload(ci, commit_hash=new, commit_time="2024-02-01T00:00:00Z", os="windows", workflow_name="b")
    r = ci.get("/gitcommitsummary", headers={"X-CI-Key": KEY})
    assert r.status_code == 200
    body = r.get_json()
    assert body["totalNumberOfPages"] == 1
    assert body["commitSummaries"] == [
        {
            "commit_hash": new,
            "commit_name": "Fix the sampler",
            "branch_name": "master",
            "author": "",
            "timestamp": "2024-02-01T00:00:00.000000Z",
            "status_summary": {"linux": "STARTED", "windows": "COMPLETED"},
        },
        {
            "commit_hash": old,
            "commit_name": "Fix the sampler",
            "branch_name": "master",
            "author": "Ada",
            "timestamp": "2024-01-01T00:00:00.000000Z",
            "status_summary": {"linux": "FAILED", "mac": "COMPLETED"},
        },
    ]


def test_commit_summaries_page_exactly_and_filter(ci: RegistryClient) -> None:
    for i in range(7):
        upload(ci, commit_hash=f"{i:040d}", commit_time=f"2024-03-0{i + 1}T00:00:00Z", branch_name=f"b{i % 2}")
    upload(ci, repo="other/repo", commit_hash="e" * 40)
    with ci.container.sessions() as s:  # a commit without results is not summarised
        now = utcnow()
        s.add(GitCommit(repo_name="comfyanonymous/comfyui", commit_hash="c" * 40, commit_timestamp=now))
        s.commit()

    def summaries(**query: Any) -> dict[str, Any]:
        r = ci.get("/gitcommitsummary", query=query, headers={"X-CI-Key": KEY})
        assert r.status_code == 200
        return dict(r.get_json())

    assert summaries()["totalNumberOfPages"] == 1 and len(summaries()["commitSummaries"]) == 8
    page = summaries(repoName="ComfyAnonymous/ComfyUI", pageSize=3, page=3)
    assert page["totalNumberOfPages"] == 3
    assert [s["commit_hash"] for s in page["commitSummaries"]] == [f"{0:040d}"]
    only_b1 = summaries(repoName="comfyanonymous/comfyui", branchName="b1")["commitSummaries"]
    assert [s["commit_hash"] for s in only_b1] == [f"{i:040d}" for i in (5, 3, 1)]
    assert summaries(repoName="nobody/nothing") == {"commitSummaries": [], "totalNumberOfPages": 0}


def test_branches(ci: RegistryClient) -> None:
    upload(ci, branch_name="master")
    upload(ci, commit_hash="b" * 40, branch_name="12/merge")
    upload(ci, commit_hash="c" * 40, branch_name="master")
    upload(ci, repo="other/repo", commit_hash="d" * 40, branch_name="dev")
    r = ci.get("/branch", query={"repo_name": "ComfyAnonymous/ComfyUI"}, headers={"X-CI-Key": KEY})
    assert r.status_code == 200 and r.get_json() == {"branches": ["12/merge", "master"]}
    r = ci.get("/branch", query={"repo_name": "nobody/nothing"}, headers={"X-CI-Key": KEY})
    assert r.get_json() == {"branches": []}


# -- who may read ----------------------------------------------------------------------------------------------
READS = ["/gitcommit", "/gitcommitsummary", "/branch?repo_name=comfyanonymous/ComfyUI", "/workflowresult/{id}"]


def _read_paths(api: RegistryClient) -> list[str]:
    upload(api)
    job_id = results(api)["jobResults"][0]["id"]
    return [p.replace("{id}", job_id) for p in READS]


@pytest.mark.parametrize("who", ["user", "owner", "member", "admin_claim", "admin_db", "key", "bearer_key", "service"])
def test_who_may_read(ci: RegistryClient, who: str) -> None:
    paths = _read_paths(ci)
    kwargs: dict[str, Any] = {}
    if who in ("user", "owner", "member", "admin_claim", "admin_db"):
        kwargs["as_"] = who
    if who == "owner":
        ci.create_publisher("owner", "owner-pub")
    if who == "member":
        from shared.db.models import PublisherPermission

        ci.create_publisher("boss", "boss-pub")
        set_user(ci, "member")
        with ci.container.sessions() as s:
            s.add(PublisherPermission(publisher_id="boss-pub", user_id="member", permission="member"))
            s.commit()
    if who == "admin_claim":
        kwargs["admin"] = True
    if who == "admin_db":
        set_user(ci, "admin_db", is_admin=True)
    if who == "key":
        kwargs["headers"] = {"X-CI-Key": OTHER_KEY}
    if who == "bearer_key":
        kwargs["headers"] = {"Authorization": f"Bearer {KEY}"}
    if who == "service":
        kwargs["headers"] = {"Authorization": f"Bearer {service_token()}"}
    for path in paths:
        r = ci.get(path, **kwargs)
        assert r.status_code == 200, (path, r.get_data(as_text=True))


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer garbage"}, 401),
        ({"Authorization": "Bearer " + _b64({"a": 1}) + "." + _b64({"iss": "https://evil"}) + ".x"}, 401),
        ({"X-CI-Key": "wrong"}, 401),
        ({"Authorization": f"Bearer {service_token('intruder@evil.iam.gserviceaccount.com')}"}, 403),
    ],
)
def test_reads_refuse_without_a_good_credential(ci: RegistryClient, headers: dict[str, str], status: int) -> None:
    for path in _read_paths(ci):
        r = ci.get(path, headers=headers)
        assert r.status_code == status, (path, r.get_data(as_text=True))
        assert r.get_json()["message"]


def test_banned_users_cannot_read(ci: RegistryClient) -> None:
    paths = _read_paths(ci)
    set_user(ci, "mallory", status="banned")
    for path in paths:
        r = ci.get(path, as_="mallory")
        assert r.status_code == 403 and r.get_json()["message"] == "user/publisher is banned", path


def test_reading_logs_the_person_in(ci: RegistryClient) -> None:
    _read_paths(ci)
    assert ci.get("/gitcommitsummary", as_="newcomer").status_code == 200
    with ci.container.sessions() as s:
        assert s.get(User, "newcomer") is not None


# -- the document and the models agree ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema_name", "model"), [("UploadArtifactRequest", UploadArtifactIn), ("MachineStats", MachineStatsIn)]
)
def test_request_schema_matches_the_model(schema_name: str, model: type[Any]) -> None:
    schema = load_spec()["components"]["schemas"][schema_name]
    assert set(schema["properties"]) == set(model.model_fields)
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert set(schema.get("required", [])) == required


def test_stored_machine_stats_are_shown_as_documented() -> None:
    shown = serializers_ci.machine_stats({"gpu_type": "L4", "cpu_capacity": 8, "secret": "x", "vram_time_series": []})
    assert shown == {"gpu_type": "L4"}
    validate_schema("MachineStats", shown)


def test_routes_are_the_ci_operations() -> None:
    from functions.registry.ci import routes

    assert all(isinstance(r, Route) for r in routes.ROUTES)
    assert {r.operation_id for r in routes.ROUTES} == {
        "postUploadArtifact",
        "getGitcommit",
        "getGitcommitsummary",
        "getWorkflowResult",
        "getBranch",
    }
