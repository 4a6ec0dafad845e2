"""MetronomeUsage, the real SDK against a loopback Metronome that checks what it is sent: the ingest's fields, the
bearer token, de-duplication by transaction id, totals, dashboards, archiving, and failures as Unavailable."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.adapters.metronome_usage import MetronomeUsage
from shared.billing.ports import UsageMeter, UsageRecord
from shared.errors import Unavailable
from shared.settings import Settings
from tests.billing.usage_support import (
    EVENT_TYPE,
    METRIC_ID,
    TOKEN,
    FakeMetronome,
    free_port,
    meter_for,
    metronome_id,
    serve_metronome,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def metronome() -> Iterator[FakeMetronome]:
    with serve_metronome() as fake:
        yield fake


def record(transaction_id: str, customer: str = "alice", micros: int = 1234, at: datetime = DAY) -> UsageRecord:
    return UsageRecord(transaction_id, customer, at + timedelta(hours=5), micros, {"model": "flux-pro"})


def test_send_ingests_one_event_per_record_with_our_fields(metronome: FakeMetronome) -> None:
    meter: UsageMeter = meter_for(metronome)
    meter.send([record("entry-1")])
    (call,) = metronome.ingest_calls()
    assert call == [
        {
            "transaction_id": "entry-1",
            "customer_id": "alice",
            "event_type": EVENT_TYPE,
            "timestamp": "2026-03-02T05:00:00.000000Z",
            "properties": {"model": "flux-pro", "amount_micros": "1234"},
        }
    ]
    assert metronome.problems == []


def test_a_resend_is_counted_once(metronome: FakeMetronome) -> None:
    meter = meter_for(metronome)
    meter.send([record("entry-1")])
    meter.send([record("entry-1")])
    assert len(metronome.ingest_calls()) == 2
    assert list(metronome.events) == ["entry-1"]
    assert meter.totals(DAY, DAY + timedelta(days=1)) == {"alice": 1234}


def test_large_batches_are_split(metronome: FakeMetronome) -> None:
    meter_for(metronome).send([record(f"entry-{i}") for i in range(150)])
    assert [len(call) for call in metronome.ingest_calls()] == [100, 50]
    assert len(metronome.events) == 150


def test_a_wrong_token_is_refused_and_never_shown(metronome: FakeMetronome) -> None:
    secret = "not-the-token-0123456789"
    meter = MetronomeUsage(secret, event_type=EVENT_TYPE, base_url=metronome.url, max_retries=0)
    with pytest.raises(Unavailable) as caught:
        meter.send([record("entry-1")])
    assert caught.value.code == "metronome_unavailable"
    assert "401" in caught.value.message
    assert secret not in str(caught.value) and secret not in repr(meter)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert metronome.events == {}


def test_server_errors_and_an_unreachable_server_are_unavailable(metronome: FakeMetronome) -> None:
    metronome.failures = 1
    with pytest.raises(Unavailable, match="answered 500"):
        meter_for(metronome).send([record("entry-1")])
    meter_for(metronome).send([record("entry-1")])  # the retry goes through
    assert list(metronome.events) == ["entry-1"]
    nowhere = MetronomeUsage(TOKEN, event_type=EVENT_TYPE, base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    with pytest.raises(Unavailable, match="could not be reached"):
        nowhere.send([record("entry-2")])


def test_totals_are_per_customer_in_our_ids(metronome: FakeMetronome) -> None:
    meter = meter_for(metronome)
    meter.send([record("e1", "alice", 1_000), record("e2", "alice", 2_500), record("e3", "bob", 700)])
    meter.send([record("e4", "bob", 99, at=DAY + timedelta(days=1))])  # the next day: outside the window
    assert meter.totals(DAY, DAY + timedelta(days=1)) == {"alice": 3_500, "bob": 700}
    (query,) = [body for method, path, body in metronome.requests if path == "/v1/usage"]
    assert query["window_size"] == "NONE" and query["billable_metrics"] == [{"id": METRIC_ID}]
    assert query["starting_on"].startswith("2026-03-02T00:00:00")
    with pytest.raises(ValueError, match="midnights"):
        meter.totals(DAY + timedelta(hours=1), DAY + timedelta(days=1))


def test_totals_need_the_billable_metric(metronome: FakeMetronome) -> None:
    meter = MetronomeUsage(TOKEN, event_type=EVENT_TYPE, base_url=metronome.url, max_retries=0)
    with pytest.raises(Unavailable) as caught:
        meter.totals(DAY, DAY + timedelta(days=1))
    assert caught.value.code == "metronome_metric_not_configured"


def test_dashboard_url_from_metronome_or_the_template(metronome: FakeMetronome) -> None:
    meter = meter_for(metronome)
    url = meter.dashboard_url("alice", dashboard="credits", colors={"Primary_medium": "#112233"})
    assert url == f"https://dash.example/{metronome_id('alice')}/credits?Primary_medium=#112233"
    metronome.unknown.add("nobody")
    assert meter.dashboard_url("nobody") is None
    templated = meter_for(metronome, dashboard_template="https://usage.example/c/{customer_id}")
    assert templated.dashboard_url("alice") == "https://usage.example/c/alice"


def test_archive_finds_the_customer_by_alias(metronome: FakeMetronome) -> None:
    meter = meter_for(metronome)
    assert meter.archive_customer("alice") is True
    assert metronome.archived == [metronome_id("alice")]
    metronome.unknown.add("ghost")
    assert meter.archive_customer("ghost") is False
    assert metronome.archived == [metronome_id("alice")]


def test_from_settings_and_no_sdk_on_import() -> None:
    settings = Settings(
        APP_ENV="test",
        METRONOME_API_TOKEN=TOKEN,
        METRONOME_BASE_URL="http://127.0.0.1:9/",
        METRONOME_BILLABLE_METRIC_ID=METRIC_ID,
    )
    meter = MetronomeUsage.from_settings(settings)
    assert (meter.base_url, meter.billable_metric_id, meter.event_type) == ("http://127.0.0.1:9", METRIC_ID, EVENT_TYPE)
    code = (
        "import sys\n"
        "import shared.adapters.metronome_usage\n"
        "assert 'metronome' not in sys.modules, 'the SDK was imported with the adapter'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
