"""The scanner's version on each verdict, rescans after a rule change, and scans that run out of time: through the
upload event, the `scanner_sweep` entry point and the stored rows, on both databases."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import pytest
from sqlalchemy import update

from functions.scanner import SCANNER_VERSION, ScanLimits, ScanReport, scan_archive
from shared.db.models import NodeVersion
from tests.conftest import ROOT
from tests.support import RegistryClient, version_row


@pytest.fixture
def sweep_app() -> Any:
    import functions_framework

    return functions_framework.create_app("scanner_sweep", str(ROOT / "functions/scanner/main.py"), "http")


def sweep(app: Any, query: str = "") -> dict[str, int]:
    body = app.test_client().post(f"/{query}").get_json()
    return dict(body["counts"])


def set_rows(api: RegistryClient, node_id: str, **values: Any) -> None:
    with api.container.sessions() as s:
        s.execute(update(NodeVersion).where(NodeVersion.node_id == node_id).values(**values))
        s.commit()


def test_each_verdict_records_the_scanner_version(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    row = version_row(api, "my-node")
    assert (row.status, row.scanner_version, row.scan_timeouts) == ("active", SCANNER_VERSION, 0)


def test_the_sweep_rescans_what_an_older_rule_set_judged_a_bounded_number_per_run(
    api: RegistryClient, sweep_app: Any
) -> None:
    token = api.owner_with_token()
    for node in ("node-a", "node-b", "node-c"):
        api.publish("alice-pub", node, "1.0.0", token)
    api.use(settings=api.container.settings.model_copy(update={"scan_rescans_per_run": 2}))
    assert sweep(sweep_app) == {}  # every verdict is the current rule set's
    set_rows(api, "node-a", scanner_version="0")  # judged by an older rule set
    set_rows(api, "node-b", scanner_version=None)  # judged before versions were recorded
    set_rows(api, "node-c", scanner_version="0", status_reason="Activated by an admin after review")
    assert sweep(sweep_app) == {"rules_scanned": 2}
    assert [version_row(api, n).scanner_version for n in ("node-a", "node-b")] == [SCANNER_VERSION] * 2
    # An admin's decision is not the scanner's verdict: it is never re-judged behind the admin's back.
    assert version_row(api, "node-c").scanner_version == "0"
    assert sweep(sweep_app) == {}


def test_the_bound_leaves_the_rest_for_the_next_run(api: RegistryClient, sweep_app: Any) -> None:
    token = api.owner_with_token()
    for node in ("node-a", "node-b"):
        api.publish("alice-pub", node, "1.0.0", token)
        set_rows(api, node, scanner_version="0")
    api.use(settings=api.container.settings.model_copy(update={"scan_rescans_per_run": 1}))
    assert sweep(sweep_app) == {"rules_scanned": 1}
    assert sweep(sweep_app) == {"rules_scanned": 1}
    assert sweep(sweep_app) == {}


class SlowScans:
    """The scanner's engine as a slow pack makes it: a budget below `needs` runs out (the engine's own report after
    the budget has passed); a larger one scans for real. Records every budget it was given."""

    def __init__(self, needs: float) -> None:
        self.needs = needs
        self.budgets: list[float] = []

    def __call__(self, source: IO[bytes], limits: ScanLimits) -> ScanReport:
        self.budgets.append(limits.max_scan_seconds)
        if limits.max_scan_seconds >= self.needs:
            return scan_archive(source, limits)
        time.sleep(limits.max_scan_seconds)
        return scan_archive(source, limits.model_copy(update={"max_scan_seconds": 1e-9}))


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowScans]:
    from functions.scanner import apply

    scans = SlowScans(needs=0.1)
    monkeypatch.setattr(apply, "scan_archive", scans)
    yield scans


def budgets(api: RegistryClient, first: float, cap: float) -> None:
    update_ = {"scan_max_seconds": first, "scan_max_seconds_cap": cap}
    api.use(settings=api.container.settings.model_copy(update=update_))


def test_a_scan_that_runs_out_of_time_is_no_verdict_and_is_retried_with_twice_the_budget(
    api: RegistryClient, sweep_app: Any, slow: SlowScans
) -> None:
    budgets(api, first=0.05, cap=0.2)
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)  # the upload's event scans it, and runs out of time
    row = version_row(api, "my-node")
    assert (row.status, row.scan_timeouts, row.scanned_at, row.scanner_version) == ("pending", 1, None, None)
    assert "ran out of time" in row.status_reason and "retried with a larger budget" in row.status_reason
    assert api.get("/nodes/my-node/install", query={"version": "1.0.0"}).status_code == 409  # being scanned
    # The sweep does not wait for the lost-event delay: it retries at once, with twice the budget.
    assert sweep(sweep_app) == {"retry_scanned": 1}
    assert slow.budgets == [0.05, 0.1]
    row = version_row(api, "my-node")
    assert (row.status, row.scan_timeouts, row.scanner_version) == ("active", 0, SCANNER_VERSION)
    assert sweep(sweep_app) == {}


def test_past_the_cap_the_version_waits_for_an_admin_pending_and_is_not_retried(
    api: RegistryClient, sweep_app: Any, slow: SlowScans
) -> None:
    budgets(api, first=0.02, cap=0.04)  # two scans: 0.02 s, then 0.04 s; the pack needs 0.1 s
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    assert sweep(sweep_app) == {"retry_timed_out": 1}
    row = version_row(api, "my-node")
    assert (row.status, row.scan_timeouts) == ("pending", 2)
    assert "at the largest budget; an admin reviews it" in row.status_reason
    set_rows(api, "my-node", created_at=datetime.now(UTC) - timedelta(days=1))
    assert sweep(sweep_app) == {}  # neither a retry nor a lost event: nothing judges it against the publisher
    assert slow.budgets == [0.02, 0.04]
    assert version_row(api, "my-node").status == "pending"


def test_a_rescan_that_runs_out_of_time_keeps_the_verdict(api: RegistryClient, sweep_app: Any, slow: SlowScans) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)  # the default budget: judged clean
    before = version_row(api, "my-node")
    budgets(api, first=0.05, cap=0.4)
    assert sweep(sweep_app, "?all=true") == {"timed_out": 1}
    row = version_row(api, "my-node")
    assert (row.status, row.status_reason, row.release_path) == ("active", before.status_reason, before.release_path)
    assert row.scan_timeouts == 1
    assert api.get("/nodes/my-node/install", query={"version": "1.0.0"}).status_code == 200
    assert sweep(sweep_app) == {"retry_scanned": 1}
    assert version_row(api, "my-node").scan_timeouts == 0


def test_the_sweep_stops_starting_scans_before_its_own_time_runs_out(
    api: RegistryClient, sweep_app: Any, slow: SlowScans
) -> None:
    budgets(api, first=0.05, cap=0.2)
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    # The next scan's budget (0.1 s) does not fit in what is left of the run: it waits for the next run.
    api.use(settings=api.container.settings.model_copy(update={"scan_sweep_seconds": 0.01}))
    assert sweep(sweep_app) == {"deferred": 1}
    assert version_row(api, "my-node").scan_timeouts == 1
