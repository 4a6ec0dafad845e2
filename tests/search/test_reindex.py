"""The full reindex: batched by id, resumable after a failure or a time budget, removing strays; its command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.indexer import reindex as full
from functions.indexer.__main__ import main as cli
from shared.ports import SearchRecord
from tests.search.support import Catalog, FakeIndex
from tests.support import RegistryClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeded(api: RegistryClient) -> Catalog:
    catalog = Catalog(api)
    for i in range(7):
        catalog.add(f"pack-{i}", name=f"Pack {i}", installable=i != 3)
    return catalog


def upserted(index: FakeIndex) -> list[list[str]]:
    return [ids for name, ids in index.calls if name == "upsert_nodes"]


class FailingAfter(FakeIndex):
    """Refuses node upserts after `allowed` of them, as an index going down mid-run would."""

    allowed = 2

    def upsert_nodes(self, records: Sequence[SearchRecord]) -> None:
        if len(upserted(self)) >= self.allowed:
            raise ConnectionError("index unreachable")
        super().upsert_nodes(records)


def test_batches_in_id_order_and_removes_strays(api: RegistryClient, seeded: Catalog) -> None:
    index = FakeIndex()
    index.nodes = {"gone": {"objectID": "gone"}, "pack-3": {"objectID": "pack-3"}}
    index.versions = {"old-version": {"objectID": "old-version"}}
    seen: list[tuple[int, int]] = []
    result = full.reindex(api.container.uow, index, batch=3, progress=lambda d, t: seen.append((d, t)))
    assert upserted(index) == [["pack-0", "pack-1", "pack-2"], ["pack-4", "pack-5"], ["pack-6"]]
    assert sorted(index.nodes) == [f"pack-{i}" for i in range(7) if i != 3]
    assert len(index.versions) == 6 and "old-version" not in index.versions
    assert (result.nodes, result.shown, result.hidden, result.complete) == (7, 6, 1, True)
    assert (result.removed_nodes, result.removed_versions) == (1, 1)
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
    assert index.settings_applied == 1
    with api.container.uow() as uow:
        assert uow.search.cursor(full.CURSOR) is None


def test_an_interrupted_run_resumes_after_its_last_batch(api: RegistryClient, seeded: Catalog) -> None:
    index = FailingAfter()
    with pytest.raises(ConnectionError):
        full.reindex(api.container.uow, index, batch=2)
    assert upserted(index) == [["pack-0", "pack-1"], ["pack-2"]]
    with api.container.uow() as uow:
        assert uow.search.cursor(full.CURSOR) == "pack-3"
    index.allowed = 100
    seen: list[tuple[int, int]] = []
    result = full.reindex(api.container.uow, index, batch=2, resume=True, progress=lambda d, t: seen.append((d, t)))
    assert upserted(index)[2:] == [["pack-4", "pack-5"], ["pack-6"]]
    assert seen[0] == (4, 7) and result.complete and result.nodes == 3
    # Without --resume a run starts again from the first node.
    full.reindex(api.container.uow, index, batch=4)
    assert upserted(index)[4:] == [["pack-0", "pack-1", "pack-2"], ["pack-4", "pack-5", "pack-6"]]


def test_a_time_budget_stops_between_batches(api: RegistryClient, seeded: Catalog) -> None:
    ticks = iter(range(100))
    index = FakeIndex()
    result = full.reindex(api.container.uow, index, batch=2, budget_seconds=3, clock=lambda: float(next(ticks)))
    assert not result.complete and result.nodes == 4
    assert upserted(index) == [["pack-0", "pack-1"], ["pack-2"]]
    result = full.reindex(api.container.uow, index, batch=2, resume=True)
    assert result.complete and result.nodes == 3


def test_recently_indexed_nodes_can_be_skipped(api: RegistryClient, seeded: Catalog) -> None:
    index = FakeIndex()
    full.reindex(api.container.uow, index, batch=10)
    seeded.add("pack-new", name="Pack New")
    result = full.reindex(api.container.uow, index, batch=10, min_age=timedelta(hours=1))
    assert upserted(index)[-1] == ["pack-new"]
    assert (result.nodes, result.skipped) == (8, 6)
    assert full.reindex(api.container.uow, index, batch=10, min_age=timedelta(0)).skipped == 0


def test_batch_must_be_positive(api: RegistryClient) -> None:
    with pytest.raises(ValueError):
        full.reindex(api.container.uow, FakeIndex(), batch=0)


def test_progress_bar() -> None:
    out = io.StringIO()
    bar = full.ProgressBar(out, width=10)
    for done in (0, 3, 4, 10):
        bar(done, 10)
    assert out.getvalue().splitlines() == [
        "reindex [..........]       0/10 nodes   0%",
        "reindex [###.......]       3/10 nodes  30%",
        "reindex [####......]       4/10 nodes  40%",
        "reindex [##########]      10/10 nodes 100%",
    ]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    bar = full.ProgressBar(tty, width=4)
    bar(1, 2)
    bar(2, 2)
    assert tty.getvalue() == "\rreindex [##..]       1/2 nodes  50%\rreindex [####]       2/2 nodes 100%\n"
    empty = io.StringIO()
    full.ProgressBar(empty)(0, 0)
    assert "100%" in empty.getvalue()


def test_the_command(api: RegistryClient, seeded: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    index = FakeIndex()
    api.use(search=index)
    assert cli(["reindex", "--batch", "4"]) == 0
    err = capsys.readouterr().err
    assert "reindex [" in err and "7/7 nodes 100%" in err
    assert "reindexed 7 nodes: 6 sent, 1 hidden" in err
    assert cli(["reindex", "--resume"]) == 0
    assert cli(["sync-downloads", "--limit", "5"]) == 0
    assert "sent 0 records" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["reindex", "--batch", "0"])


def test_the_command_runs_on_its_own(api: RegistryClient, seeded: Catalog, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": api.container.settings.resolved_database_url,
        "DATA_DIR": str(tmp_path),
        "SEARCH_BACKEND": "database",
    }
    run = subprocess.run(
        [sys.executable, "-m", "functions.indexer", "reindex", "--batch", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "7/7 nodes 100%" in run.stderr and "reindexed 7 nodes: 6 sent, 1 hidden" in run.stderr
    bad: Any = subprocess.run(
        [sys.executable, "-m", "functions.indexer", "rebuild"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert bad.returncode == 2
