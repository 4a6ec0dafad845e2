"""What a newcomer meets first: the README's commands run on the defaults (APP_ENV is `local` off the cloud), a
database that was never migrated says so and what to run, and `make run` installs only what running needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from shared.bootstrap import bootstrap
from shared.db.transient import is_missing_schema
from shared.settings import Settings
from tests.conftest import make_settings
from tests.support import RegistryClient

ROOT = Path(__file__).resolve().parents[2]


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "FIREBASE_AUTH_EMULATOR_HOST", "K_SERVICE")}
    return {**env, **extra}


def test_app_env_is_local_off_the_cloud_and_production_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "FIREBASE_AUTH_EMULATOR_HOST", "K_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().app_env == "local"
    monkeypatch.setenv("K_SERVICE", "registry")  # Cloud Functions and Cloud Run set it
    assert Settings(BLOB_BACKEND="gcs").app_env == "production"
    with pytest.raises(ValueError, match="BLOB_BACKEND=local"):
        Settings()
    assert Settings(APP_ENV="staging", BLOB_BACKEND="gcs").app_env == "staging"


def test_a_database_never_migrated_says_what_to_run(api: RegistryClient, tmp_path: Path) -> None:
    empty = make_settings(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}", tmp_path / "data")
    api.use(**{name: getattr(bootstrap(empty), name) for name in ("uow", "sessions", "read_cache", "search")})
    r = api.client.get("/nodes/some-node")
    assert r.status_code == 503 and r.get_json()["error"] == "database_not_ready"
    assert "make migrate" in r.get_json()["message"] and "try again shortly" not in r.get_json()["message"]
    assert r.headers["X-Comfy-Request-Id"]


def test_a_missing_table_is_recognised_on_both_engines(database_url: str, postgres_server: str | None) -> None:
    urls = [database_url] + ([postgres_server] if postgres_server else [])
    for url in urls:
        engine = create_engine(url)
        try:
            with engine.connect() as conn, pytest.raises(DBAPIError) as raised:
                conn.execute(text("SELECT 1 FROM no_such_table_here"))
            assert is_missing_schema(raised.value), url
            with engine.connect() as conn, pytest.raises(DBAPIError) as other:
                conn.execute(text("SELECT * FROM (SELECT 1) AS t WHERE nonsense("))
            assert not is_missing_schema(other.value), url
        finally:
            engine.dispose()


def test_the_readmes_indexer_command_runs_without_a_traceback(tmp_path: Path) -> None:
    env = _environment(DATA_DIR=str(tmp_path / "fresh"))
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "functions.indexer", "reindex"]
    before = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert before.returncode == 1 and "Traceback" not in before.stderr
    assert "make migrate" in before.stderr
    migrate = [sys.executable, "-m", "shared.db.migrate", "upgrade"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    after = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert after.returncode == 0, after.stderr
    assert "reindexed 0 nodes" in after.stderr


def test_make_run_installs_what_running_needs_and_says_what_it_does(tmp_path: Path) -> None:
    plan = subprocess.run(
        ["make", "-n", "-B", "run", f"VENV={tmp_path / 'venv'}", f"DATA_DIR={tmp_path / 'data'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plan.returncode == 0, plan.stderr
    assert "requirements-local.txt" in plan.stdout and "requirements-dev.txt" not in plan.stdout
    assert plan.stdout.count('echo "==>') >= 3
    wanted = (ROOT / "requirements-local.txt").read_text()
    for folder in sorted((ROOT / "functions").glob("*/requirements.txt")):
        assert f"-r functions/{folder.parent.name}/requirements.txt" in wanted
    assert "pytest" not in wanted and "mypy" not in wanted
