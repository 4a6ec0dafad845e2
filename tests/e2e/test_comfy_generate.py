"""The gateway issue's "done means" with the real client: comfy-cli 1.23.0's `comfy generate`, unmodified, with
COMFY_API_BASE_URL at `python -m local serve` (its own process) and COMFY_API_KEY a key made through the billing API,
against the loopback fake partners. One alias per job protocol the client can reach among the seed partners runs to
its output file, and the balance drops by exactly that call's price; with no credit the client fails on the 402."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.fake_partners import CREDENTIALS, FakePartners
from tests.e2e.conftest import ROOT, ComfyCli, ServedStack, serve_stack

USD = 1_000_000
# alias and flags -> the price in micro-USD (functions/proxy/catalog/partners.py) and what it exercises
RUNS: list[tuple[list[str], int, str]] = [
    (["ideogram", "--prompt", "a fox", "--rendering_speed", "TURBO"], 30_000, "sync JSON"),
    (["dalle", "--prompt", "a fox", "--model", "gpt-image-1"], 50 * 10 + 1000 * 40, "sync JSON, metered by tokens"),
    (["kling", "--prompt", "waves"], 5 * 70_000, "submit, then GET-poll the submit path"),
    (["flux-pro", "--prompt", "an owl"], 45_000, "submit, then the absolute polling URL (rewritten to us)"),
    (["pika", "--promptText", "a fox"], 200_000, "form-urlencoded submit, then GET-poll"),
    (["moonvalley-t2v", "--prompt_text", "hills"], 1_500_000, "submit answered 201, then GET-poll"),
]


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakePartners]:
    with FakePartners.running() as partners:
        yield partners


@pytest.fixture(scope="module")
def gateway_stack(fakes: FakePartners, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedStack, Path]]:
    workdir = tmp_path_factory.mktemp("gateway")
    settings = {
        "PARTNER_BASE_URLS": json.dumps(fakes.base_urls()),
        "PARTNER_CREDENTIALS": json.dumps(CREDENTIALS),
    }
    with serve_stack(workdir, settings) as stack:
        yield stack, workdir / "data"


def customer_key(stack: ServedStack, data_dir: Path, uid: str, usd: int) -> str:
    auth = stack.login(uid)
    assert stack.post("/customers", headers=auth).status_code == 201
    if usd:
        env = {**os.environ, "APP_ENV": "local", "DATA_DIR": str(data_dir)}
        grant = [sys.executable, "-m", "local", "grant", "--customer", uid, "--usd", str(usd)]
        done = subprocess.run(grant, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    created = stack.post("/customers/api-keys", json={"name": "comfy generate"}, headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["api_key"]["plaintext_key"])


def balance(stack: ServedStack, key: str) -> int:
    answer = stack.get("/customers/balance", headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["amount_micros"])


def test_each_protocol_runs_to_its_output_and_costs_its_price(
    comfy: ComfyCli, gateway_stack: tuple[ServedStack, Path], fakes: FakePartners, tmp_path: Path
) -> None:
    stack, data_dir = gateway_stack
    key = customer_key(stack, data_dir, "generator", 10)
    env = {"COMFY_API_BASE_URL": stack.base_url, "COMFY_API_KEY": key}
    for args, price, protocol in RUNS:
        out = tmp_path / args[0]
        before = balance(stack, key)
        result = comfy.run("generate", *args, "--yes", "--download", f"{out}/", cwd=tmp_path, extra_env=env)
        assert result.returncode == 0, f"{protocol}: {result.describe()}"
        envelope = json.loads(result.stdout.strip().splitlines()[-1])
        assert envelope["ok"] is True, result.describe()
        saved = [Path(p) if Path(p).is_absolute() else tmp_path / p for p in envelope["data"]["saved"]]
        assert saved and all(p.is_file() and p.stat().st_size > 0 for p in saved), f"{protocol}: {saved}"
        assert before - balance(stack, key) == price, protocol
    # The partner's credential reached every partner, the caller's key none.
    for received in fakes.received():
        assert key not in json.dumps(received.headers)


def test_without_credit_the_client_fails_with_payment_required(
    comfy: ComfyCli, gateway_stack: tuple[ServedStack, Path], tmp_path: Path
) -> None:
    stack, data_dir = gateway_stack
    key = customer_key(stack, data_dir, "penniless", 0)
    env = {"COMFY_API_BASE_URL": stack.base_url, "COMFY_API_KEY": key}
    result = comfy.run(
        "generate", "ideogram", "--prompt", "x", "--rendering_speed", "TURBO", "--yes", cwd=tmp_path, extra_env=env
    )
    envelope = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 1 and envelope["ok"] is False, result.describe()
    assert envelope["error"]["details"]["status"] == 402
    assert json.loads(envelope["error"]["details"]["body"])["error"] == "insufficient_credit"
    assert balance(stack, key) == 0
