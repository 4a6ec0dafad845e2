"""`python -m local grant`: credit on a laptop without Stripe, through the ledger, once per key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def grant(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV")}
    env["DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "local", "grant", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_grant_credits_a_customer_once_per_key(tmp_path: Path) -> None:
    first = grant(tmp_path, "--customer", "local-user", "--usd", "10")
    assert first.returncode == 0, first.stderr
    assert "local-user: 10.000000 USD available" in first.stdout
    for _ in range(2):
        again = grant(tmp_path, "--customer", "local-user", "--usd", "2.5", "--key", "k1")
        assert again.returncode == 0, again.stderr
    assert "12.500000 USD available" in again.stdout
    engine = create_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind, amount FROM ledger_entries ORDER BY amount")).all()
        total = conn.execute(text("SELECT SUM(amount) FROM ledger_postings")).scalar()
    engine.dispose()
    assert [tuple(k) for k in kinds] == [("promotion", 2_500_000), ("promotion", 10_000_000)]
    assert total == 0


def test_grant_refuses_fractions_of_a_micro_dollar(tmp_path: Path) -> None:
    bad = grant(tmp_path, "--customer", "x", "--usd", "0.0000001")
    assert bad.returncode == 2
    assert "whole micro-USD" in bad.stderr
