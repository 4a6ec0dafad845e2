"""The download tally survives what an instance goes through: a failed write, and being stopped.

The stop is real: the registry served by gunicorn through functions-framework (as Cloud Run runs it) gets SIGTERM,
and the downloads it tallied are in the database once it has exited."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from bench.load import bench_env, serve
from bench.seed import seed
from shared.db.engine import make_engine
from shared.db.models import Node
from shared.downloads import DownloadCounter

ROOT = Path(__file__).resolve().parent.parent.parent


def catalogue(tmp_path: Path, nodes: int) -> tuple[str, list[str]]:
    """A seeded SQLite database: its URL and its node ids in order."""
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    seed(url, nodes=nodes, versions_per_node=1)
    engine = make_engine(url)
    with engine.connect() as conn:
        ids = list(conn.execute(select(Node.id).order_by(Node.id)).scalars().all())
    engine.dispose()
    return url, ids


def installs(engine_url: str, node_id: str) -> int:
    engine = make_engine(engine_url)
    with engine.connect() as conn:
        value = int(conn.execute(select(Node.total_install).where(Node.id == node_id)).scalar_one())
    engine.dispose()
    return value


def test_a_failed_write_keeps_the_tally(tmp_path: Path) -> None:
    url, (a, b) = catalogue(tmp_path, 2)
    engine = make_engine(url)
    before = {a: installs(url, a), b: installs(url, b)}
    counter = DownloadCounter(sessionmaker(engine), flush_every=3600)
    for node in (a, a, a, b):
        counter.add(node)
    with engine.begin() as conn:  # the table the write needs is gone for a while
        conn.execute(text("ALTER TABLE nodes RENAME TO nodes_away"))
    assert counter.flush() == 0 and counter.pending() == 4
    counter.add(b)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE nodes_away RENAME TO nodes"))
    assert counter.flush() == 5 and counter.pending() == 0
    assert installs(url, a) == before[a] + 3 and installs(url, b) == before[b] + 2
    engine.dispose()


def test_sigterm_writes_the_tally(tmp_path: Path) -> None:
    url, (node, *_) = catalogue(tmp_path, 3)
    before = installs(url, node)
    env = {**bench_env(tmp_path), "DATABASE_URL": url, "DOWNLOAD_FLUSH_SECONDS": "3600", "READ_CACHE_SECONDS": "60"}
    with serve("registry", ROOT / "functions/registry/main.py", env) as base:
        for _ in range(20):
            with urllib.request.urlopen(f"{base}/nodes/{node}/install", timeout=10) as r:
                assert r.status == 200
        assert installs(url, node) == before  # tallied, not yet written
    # serve() sent SIGTERM to the server's process group and waited for it to exit.
    assert installs(url, node) == before + 20


def test_a_failure_part_way_keeps_only_what_was_not_written(tmp_path: Path) -> None:
    url, (a, b, c) = catalogue(tmp_path, 3)
    engine = make_engine(url)
    before = {n: installs(url, n) for n in (a, b, c)}
    counter = DownloadCounter(sessionmaker(engine), flush_every=3600)
    for node in (a, a, b, c, c, c):
        counter.add(node)
    with engine.begin() as conn:  # the second node's row refuses writes for a while
        conn.execute(
            text(
                f"CREATE TRIGGER refuse BEFORE UPDATE ON nodes WHEN NEW.id = '{b}' BEGIN SELECT RAISE(ABORT, 'no'); END"
            )
        )
    assert counter.flush() == 2 and counter.pending() == 4  # a written; b and c kept
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))
    assert counter.flush() == 4 and counter.pending() == 0
    assert [installs(url, n) - before[n] for n in (a, b, c)] == [2, 1, 3]
    engine.dispose()


def test_an_overdue_tally_is_written_by_the_next_install(tmp_path: Path) -> None:
    """The timer may not run (Cloud Functions holds back the CPU between requests): the next install writes it."""
    url, (node,) = catalogue(tmp_path, 1)
    before = installs(url, node)
    now = [0.0]
    engine = make_engine(url)
    counter = DownloadCounter(sessionmaker(engine), flush_every=3600, clock=lambda: now[0])
    counter.add(node)
    now[0] = 3599.0
    counter.add(node)
    assert installs(url, node) == before and counter.pending() == 2
    now[0] = 3600.0
    counter.add(node)
    assert installs(url, node) == before + 3 and counter.pending() == 0
    engine.dispose()
