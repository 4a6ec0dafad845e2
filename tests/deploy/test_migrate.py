"""tools/migrate.py, the deploy-time migration: upgrade under a lock, then table rights for the functions'
IAM database users (on the suite's throwaway PostgreSQL; skipped where there is none)."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shared.db import grants
from tools import migrate

USER = f"registry-{uuid.uuid4().hex[:8]}-fn@deploy-test.iam"  # roles are cluster-wide: one per run


@pytest.fixture
def fresh_database(postgres_server: str | None) -> Iterator[str]:
    if postgres_server is None:
        pytest.skip("PostgreSQL is not available here (see the reason printed at the start)")
    name = f"deploy_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{USER}"'))
    try:
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{USER}"'))
        admin.dispose()


def test_migrates_grants_and_releases_the_lock(fresh_database: str) -> None:
    migrate.run(fresh_database, {USER: "moderation"})
    migrate.run(fresh_database, {USER: "moderation"})  # a second deploy finds nothing to do and is not blocked
    wanted = grants.PROFILES["moderation"]
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            tables = list(
                conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
                .scalars()
                .all()
            )
            assert "alembic_version" in tables and len(tables) > 5
            for table in tables:
                held = {
                    privilege
                    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
                    if conn.execute(
                        text("SELECT has_table_privilege(:u, :t, :p)"),
                        {"u": USER, "t": f"public.{table}", "p": privilege},
                    ).scalar_one()
                }
                assert held == set(wanted.get(table, "").replace(" ", "").split(",")) - {""}, table
            held_locks = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k"),
                {"k": migrate.LOCK_KEY & 0xFFFFFFFF},
            ).scalar_one()
            assert held_locks == 0
    finally:
        engine.dispose()


def test_sqlite_migrates_without_lock_or_grants(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    migrate.run(url, {USER: "publishing"})
    assert (tmp_path / "r.sqlite3").stat().st_size > 0


@pytest.mark.parametrize(
    "value", ['x"; DROP TABLE nodes; --=ci', "UPPER@x.iam=ci", "a b=ci", "a-fn@p.iam", "a-fn@p.iam=writer"]
)
def test_refuses_what_is_not_a_database_user_and_a_profile(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        migrate.parse_users(value)


def test_parses_the_cloudbuild_substitution() -> None:
    assert migrate.parse_users("") == {}
    assert migrate.parse_users(f"{USER}=reads, b-fn@p.iam=comfy_nodes") == {USER: "reads", "b-fn@p.iam": "comfy_nodes"}
