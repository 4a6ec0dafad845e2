from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings


def test_auth_emulator_is_refused_outside_local_and_test() -> None:
    with pytest.raises(ValidationError, match="unsigned tokens"):
        Settings(APP_ENV="production", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099", BLOB_BACKEND="gcs")
    assert Settings(APP_ENV="local", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099").app_env == "local"


def test_local_blobs_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    with pytest.raises(ValidationError, match="BLOB_BACKEND=local"):
        Settings(APP_ENV="production")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("DATA_DIR", "/tmp/somewhere")
    s = Settings()
    assert s.port == 9999 and s.base_url == "http://127.0.0.1:9999"
    assert s.resolved_database_url == "sqlite:////tmp/somewhere/registry.sqlite3"
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ValidationError):
        Settings()


def test_iam_database_users_log_in_with_a_fresh_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth

    from shared.db.engine import make_engine

    class Creds:
        valid = False
        token = None

        def refresh(self, request: object) -> None:
            self.valid, self.token = True, "oauth-token"

    monkeypatch.setattr(google.auth, "default", lambda scopes: (Creds(), "p"))
    engine = make_engine("postgresql://registry-fn@p.iam@127.0.0.1:1/registry")
    params: dict[str, object] = {}
    engine.dialect.dispatch.do_connect(engine.dialect, None, [], params)
    assert params["password"] == "oauth-token"
    assert len(make_engine("postgresql://user:pw@127.0.0.1:1/db").dialect.dispatch.do_connect) == 0
