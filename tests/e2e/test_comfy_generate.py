"""The gateway issue's "done means" with the real client: every alias that comfy-cli 1.23.0's `comfy generate list`
prints runs through `comfy generate`, unmodified, with COMFY_API_BASE_URL at `python -m local serve` (its own process)
and COMFY_API_KEY a key made through the billing API, against the loopback fake partners, to its output files; the
balance drops by exactly that call's price, and the caller's key reaches no partner. With no credit the client fails
on the 402.

The aliases run at once (a pool of WORKERS), each as a customer of its own, so that each balance is its own call's;
the fakes finish a job on its first poll (comfy-cli polls at once, then every 2 s), so the file's time is mostly CPU:
each comfy-cli run parses its 1.2 MB bundled spec with PyYAML's pure-Python loader (about 2.4 s of CPU).

An alias whose output comfy-cli could not save would be marked `gap` (none is: Reve's image bytes are what the catalog
asks of Reve when the caller accepts anything); one (`runway`) is fetched with `comfy generate resume` (`resume`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local.fake_partners import CREDENTIALS, FakePartners, media
from local.fake_partners.image_video_answers import REVE_CREDITS
from tests.e2e.conftest import ROOT, ComfyCli, ComfyResult, ServedStack, serve_stack

WORKERS = 8
GRANT_USD = 10
IMAGE = "{image}"  # a PNG on disk: comfy-cli base64-encodes it (JSON) or streams it (multipart)
URL = "{files}"  # the fakes' file server, for a field that takes a URL
FAKE_MEDIA = {data for data, _ in media.BY_EXTENSION.values()}  # what the fakes' files are

# Prices the fake's answer decides, as the catalog reads them (functions/proxy/catalog/...):
# BFL answers `cost` 4.5 credits at $0.01 (seed `_bfl`: PartnerCredits, under every model's hold).
BFL = 45_000
# OpenAI's gpt-image-1 usage: 50 input tokens at $10 and 1000 output tokens at $40 a million (seed `_GPT_IMAGE`).
GPT_IMAGE = 50 * 10 + 1000 * 40
# Reve's `x-reve-credits-used`, at 524.48 credits a dollar (image_video_prices `ReveCredits`).
REVE = int(Decimal(REVE_CREDITS) * 1_000_000 / Decimal("524.48"))
# xAI's `usage.cost_in_usd_ticks` at 1e10 a dollar (text_audio `_xai`): the fake's image 2e8 ticks (`xai_image`),
# its video 4e9 in the finished poll (`xai_video`).
GROK_IMAGE, GROK_VIDEO = 20_000, 400_000
# Vidu answers `credits` 16 a second at submit (5 s unless asked), at $0.005 a credit (video_3d `_VIDU`).
VIDU = 16 * 5 * 5_000
# Gemini's usageMetadata for gemini-2.5-flash-image: 100 prompt tokens at $0.30, 10 text tokens at $2.50 and 1290
# image tokens at $30 a million (signed_steps `_GEMINI`), rounded up to the micro-USD.
NANO_BANANA = -(-(100 * 300_000 + 10 * 2_500_000 + 1290 * 30_000_000) // 1_000_000)


@dataclass(frozen=True)
class Alias:
    args: tuple[str, ...]  # the alias, then its flags (IMAGE and URL filled in at run time)
    price: int  # micro-USD
    why: str  # the catalog rule and what the run exercises
    resume: str = ""  # the job's answer is only its id: `comfy generate resume <this alias> <id>` fetches the output
    envelope: bool = True  # comfy-cli answers an envelope (for image bytes it prints the saved paths instead)
    gap: str = ""  # why comfy-cli 1.23.0 cannot save this alias's output (the partner answers as its spec says)

    @property
    def name(self) -> str:
        return self.args[0]


def a(*args: str, price: int, why: str, **more: Any) -> Alias:
    return Alias(args, price, why, **more)


# Reve answers JSON with the image base64-encoded in `image` unless asked for image/* (its documented default, and
# the live spec's ReveImageResponse); comfy-cli sends `Accept: */*` and saves only result URLs or an image/* body.

# Every alias `comfy generate list` prints (45), with the flags it needs, and its price in micro-USD.
ALIASES: list[Alias] = [
    # -- Black Forest Labs: submit, then the absolute polling URL (rewritten to us); charged the reported credits --
    a("flux-2", "--prompt", "an owl", price=BFL, why="bfl credits (list $0.09)"),
    a("flux-kontext-max", "--prompt", "paint it", "--input_image", IMAGE, price=BFL, why="bfl credits, base64 input"),
    a("flux-kontext", "--prompt", "paint it", "--input_image", IMAGE, price=BFL, why="bfl credits, base64 input"),
    a("flux-expand", "--image", IMAGE, "--top", "64", price=BFL, why="bfl credits, base64 image"),
    a("flux-fill", "--image", IMAGE, "--prompt", '"a hat"', price=BFL, why="bfl credits, base64 image"),
    a("flux-ultra", "--prompt", "an owl", price=BFL, why="bfl credits (list $0.06)"),
    a("flux-pro", "--prompt", "an owl", price=BFL, why="bfl credits (list $0.04)"),
    # -- BytePlus Seedance: the adapter's `content` with inline --resolution/--duration; 1.0 pro 720p $0.056/s --
    a("seedance", "--prompt", "waves", "--resolution", "720p", "--duration", "5", price=5 * 56_000, why="seedance"),
    # -- Ideogram v3 (sync): $0.06 an image, TURBO $0.03, QUALITY $0.09, times num_images --
    a("ideogram", "--prompt", "a fox", "--rendering_speed", "TURBO", price=30_000, why="sync JSON, turbo"),
    a(
        "ideogram-edit",
        *("--prompt", "a hat", "--rendering_speed", "QUALITY", "--image", IMAGE, "--mask", IMAGE),
        price=90_000,
        why="multipart, quality",
    ),
    a("ideogram-reframe", "--resolution", "1024x1024", "--image", IMAGE, price=60_000, why="multipart, default"),
    a(
        "ideogram-remix",
        *("--prompt", "a fox", "--image", IMAGE, "--rendering_speed", "TURBO", "--num_images", "2"),
        price=2 * 30_000,
        why="multipart, two turbo images",
    ),
    a("ideogram-bg", "--prompt", "a beach", "--image", IMAGE, price=60_000, why="multipart, default"),
    # -- Kling: submit, then GET-poll the submit path; video $0.07/s (pro $0.098, std $0.056), 5 s unless asked --
    a(
        "kling-i2v",
        *("--prompt", "waves", "--image", IMAGE, "--mode", "pro", "--duration", "5"),
        price=5 * 98_000,
        why="kling pro, 5 s",
    ),
    a(
        "kling-lipsync",
        "--input",
        json.dumps({"video_url": f"{URL}/v.mp4", "mode": "text2video", "text": "hello", "voice_id": "v1"}),
        price=140_000,
        why="kling lip-sync, fixed",
    ),
    a("kling", "--prompt", "waves", price=5 * 70_000, why="kling text2video, no mode: $0.07/s"),
    a("kling-extend", "--video_id", "v1", "--prompt", "more", price=280_000, why="kling extend, fixed"),
    # -- Luma: submit answered 201, then GET-poll; Ray Flash 2 $0.12/s; Photon 1 $0.0073 an image --
    a(
        "luma",
        *("--prompt", "hills", "--model", "ray-flash-2", "--aspect_ratio", "16:9"),
        *("--duration", '"5s"', "--resolution", '"720p"'),
        price=5 * 120_000,
        why="luma video by model and seconds",
    ),
    a("luma-i2v", "--prompt", "hills", "--model", "photon-1", price=7_300, why="luma image"),
    # -- MiniMax Hailuo-02 at 768P, 6 s: $0.28; polled, then the file retrieved by id --
    a(
        "hailuo",
        *("--model", "MiniMax-Hailuo-02", "--prompt", "waves", "--duration", "6"),
        price=280_000,
        why="minimax submit, query, files/retrieve",
    ),
    # -- Moonvalley: submit answered 201, then GET-poll; $1.50 a video --
    a("moonvalley-i2v", price=1_500_000, why="moonvalley, no flags"),
    a("moonvalley-t2v", "--prompt_text", "hills", price=1_500_000, why="moonvalley"),
    # -- OpenAI gpt-image-1 (sync): metered by the answer's tokens --
    a("dalle-edit", "--model", "gpt-image-1", "--prompt", "a hat", price=GPT_IMAGE, why="multipart, tokens"),
    a("dalle", "--prompt", "a fox", "--model", "gpt-image-1", price=GPT_IMAGE, why="sync JSON, tokens"),
    # -- Pika 2.2: submit, then GET-poll; $0.20 a video --
    a("pika-i2v", "--promptText", "a fox", "--image", IMAGE, price=200_000, why="multipart submit"),
    a("pika", "--promptText", "a fox", price=200_000, why="form-urlencoded submit"),
    # -- Recraft (sync): $0.04 an image ($0.08 vector), times n; tools fixed --
    a(
        "recraft",
        *("--model", "recraftv3", "--n", "2", "--prompt", "a fox", "--size", "1024x1024"),
        *("--style", "vector_illustration"),
        price=2 * 80_000,
        why="two vector images",
    ),
    a("recraft-upscale-creative", "--image", IMAGE, price=250_000, why="multipart, fixed"),
    a("recraft-upscale", "--file", IMAGE, price=4_000, why="multipart, fixed"),
    a("recraft-i2i", "--image", IMAGE, "--prompt", "a fox", "--strength", "0.5", price=40_000, why="multipart"),
    a("recraft-inpaint", "--image", IMAGE, "--mask", IMAGE, "--prompt", "a hat", price=40_000, why="multipart"),
    a("recraft-rmbg", "--file", IMAGE, price=10_000, why="multipart, fixed"),
    a("recraft-replace-bg", "--image", IMAGE, "--mask", IMAGE, "--prompt", "a beach", price=40_000, why="multipart"),
    a("recraft-vectorize", "--file", IMAGE, price=10_000, why="multipart, fixed"),
    # -- Reve (sync): the credits it reports --
    a(
        "reve",
        *("--prompt", "a fox"),
        price=REVE,
        why="reve credits header, image bytes (the catalog asks for them)",
        envelope=False,  # comfy-cli prints the saved paths of image bytes, as for nano-banana
    ),
    a(
        "reve-edit",
        *("--edit_instruction", "a hat", "--reference_image", IMAGE),
        price=REVE,
        why="reve credits header, image bytes",
        envelope=False,
    ),
    # -- Runway: image_to_video $0.0715/s; text_to_image $0.11 (a job Runway answers with its id) --
    a(
        "runway-i2v",
        *("--duration", "5", "--model", "gen4_turbo", "--promptImage", f'"{URL}/in.png"'),
        *("--ratio", "1280:720", "--seed", "1"),
        price=357_500,
        why="runway submit, then GET /tasks/{id}",
    ),
    a(
        "runway",
        *("--model", "gen4_image", "--promptText", "a fox", "--ratio", "1920:1080"),
        price=110_000,
        # comfy-cli lists text_to_image as sync, but Runway (and the live spec's RunwayTextToImageResponse) answers
        # only the task's id: its output is read at GET /tasks/{id}, which `resume runway-i2v <id>` polls.
        why="runway text_to_image, then resume",
        resume="runway-i2v",
    ),
    # -- Vertex AI Gemini (nano-banana): the adapter's inline image in and out; metered by usageMetadata --
    a(
        "nano-banana",
        "--prompt",
        "a hat",
        "--image",
        IMAGE,
        price=NANO_BANANA,
        why="vertexai gemini tokens",
        envelope=False,
    ),
    # -- Vidu: submit, then GET /tasks/{id}/creations; the credits it reports at submit --
    a(
        "vidu-extend",
        *("--model", "viduq1", "--video_url", f"{URL}/v.mp4", "--prompt", "more"),
        price=VIDU,
        why="vidu credits",
    ),
    a(
        "vidu-i2v",
        *("--model", "viduq1", "--images", json.dumps([f"{URL}/in.png"]), "--prompt", "waves", "--duration", "5"),
        price=VIDU,
        why="vidu credits",
    ),
    a("vidu", "--model", "viduq1", "--prompt", "waves", "--duration", "5", price=VIDU, why="vidu credits"),
    # -- xAI Grok Imagine: the ticks it reports (images sync; video polled, 202 while pending) --
    a("grok-edit", "--prompt", "a hat", "--image", json.dumps({"url": f"{URL}/in.png"}), price=GROK_IMAGE, why="xai"),
    a("grok", "--prompt", "a fox", price=GROK_IMAGE, why="xai image ticks"),
    a("grok-video", "--prompt", "waves", "--duration", "8", price=GROK_VIDEO, why="xai video ticks, 202 while pending"),
]


@dataclass
class Outcome:
    alias: Alias
    key: str
    workdir: Path
    runs: list[ComfyResult] = field(default_factory=list, repr=False)
    before: tuple[int, int] = (0, 0)  # available, held
    after: tuple[int, int] = (0, 0)
    error: str = ""


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakePartners]:
    with FakePartners.running() as partners:
        partners.state.polls_to_finish = 1  # a job is over at its first poll: comfy-cli waits 2 s a poll
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


def new_customer(stack: ServedStack, uid: str) -> str:
    """A customer with an API key (and no credit yet)."""
    auth = stack.login(uid)
    assert stack.post("/customers", headers=auth).status_code == 201
    created = stack.post("/customers/api-keys", json={"name": "comfy generate"}, headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["api_key"]["plaintext_key"])


def grant(data_dir: Path, uids: list[str], usd: int) -> None:
    """`python -m local grant` for each customer, in one process (a process each costs a second of CPU)."""
    env = {**os.environ, "APP_ENV": "local", "DATA_DIR": str(data_dir)}
    code = (
        "import sys\nfrom local.__main__ import main\n"
        "for uid in sys.argv[2:]:\n"
        "    assert main(['grant', '--customer', uid, '--usd', sys.argv[1]]) == 0, uid\n"
    )
    command = [sys.executable, "-c", code, str(usd), *uids]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def balance(stack: ServedStack, key: str) -> tuple[int, int]:
    """What the key's customer can spend now, and what calls in flight hold, in micro-USD."""
    answer = stack.get("/customers/balance", headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["amount_micros"]), int(answer.json()["pending_charges_micros"])


def _cli(comfy_python: Path, stack: ServedStack, home: Path) -> ComfyCli:
    """comfy-cli with a HOME of its own (runs at once must not share its config), its registry at our stack."""
    home.mkdir(parents=True, exist_ok=True)
    return ComfyCli(python=comfy_python, home=home, base_url=stack.base_url, timings=[])


def _fill(args: tuple[str, ...], image: Path, files: str) -> list[str]:
    return [str(image) if arg == IMAGE else arg.replace(URL, files) for arg in args]


def _run(outcome: Outcome, comfy_python: Path, stack: ServedStack, fakes: FakePartners, image: Path) -> Outcome:
    try:
        alias = outcome.alias
        env = {"COMFY_API_BASE_URL": stack.base_url, "COMFY_API_KEY": outcome.key}
        cli = _cli(comfy_python, stack, outcome.workdir / "home")
        download = ("--yes", "--download", f"{outcome.workdir / 'out'}/")
        outcome.before = balance(stack, outcome.key)
        args = _fill(alias.args, image, f"{fakes.base}/files")
        outcome.runs.append(cli.run("generate", *args, *download, cwd=outcome.workdir, extra_env=env))
        if alias.resume and outcome.runs[0].returncode == 0:
            job_id = str(_envelope(outcome.runs[0])["data"]["result"]["id"])
            resume = ("generate", "resume", alias.resume, job_id, *download[1:])
            outcome.runs.append(cli.run(*resume, cwd=outcome.workdir, extra_env=env))
        outcome.after = balance(stack, outcome.key)
    except Exception as exc:  # noqa: BLE001  (reported by the alias's own test)
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


@pytest.fixture(scope="module")
def outcomes(
    comfy_python: Path,
    gateway_stack: tuple[ServedStack, Path],
    fakes: FakePartners,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Outcome]:
    """Every alias run once, WORKERS at a time, each by a customer of its own with GRANT_USD of credit."""
    stack, data_dir = gateway_stack
    root = tmp_path_factory.mktemp("aliases")
    image = root / "input.png"
    image.write_bytes(media.PNG)
    uid = {alias.name: f"gen-{alias.name}" for alias in ALIASES}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        keys = dict(zip(uid, pool.map(lambda alias: new_customer(stack, uid[alias.name]), ALIASES), strict=True))
        grant(data_dir, list(uid.values()), GRANT_USD)
        started = []
        for alias in ALIASES:
            (root / alias.name).mkdir()
            outcome = Outcome(alias, keys[alias.name], root / alias.name)
            started.append(pool.submit(_run, outcome, comfy_python, stack, fakes, image))
        return {future.result().alias.name: future.result() for future in started}


def _envelope(result: ComfyResult) -> dict[str, Any]:
    lines = result.stdout.strip().splitlines()
    envelope = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    assert isinstance(envelope, dict)
    return envelope


def _saved(result: ComfyResult, envelope: dict[str, Any], workdir: Path) -> list[Path]:
    """The files the run says it saved: the envelope's `data.saved`, else the lines under "Saved:" (nano-banana)."""
    listed = list(envelope.get("data", {}).get("saved") or []) if envelope else []
    if not envelope:
        lines = result.stdout.splitlines()
        at = lines.index("Saved:") + 1 if "Saved:" in lines else len(lines)
        listed = [line.strip() for line in lines[at:] if line.startswith("  ") and line.strip()]
    return [Path(p) if Path(p).is_absolute() else workdir / p for p in listed]


def test_the_table_is_every_alias_comfy_generate_lists(
    comfy_python: Path, gateway_stack: tuple[ServedStack, Path], tmp_path: Path
) -> None:
    cli = _cli(comfy_python, gateway_stack[0], tmp_path / "home")
    listed = cli.run("generate", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.describe()
    models = _envelope(listed)["data"]["models"]
    assert sorted(m["alias"] for m in models) == sorted(alias.name for alias in ALIASES)
    assert len(ALIASES) == 45


@pytest.mark.parametrize("alias", ALIASES, ids=lambda alias: alias.name)
def test_each_alias_runs_to_its_output_and_costs_its_price(alias: Alias, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[alias.name]
    assert not outcome.error, f"{alias.name}: {outcome.error}"
    assert outcome.runs
    for result in outcome.runs:
        assert result.returncode == 0, f"{alias.name} ({alias.why}): {result.describe()}"
    result = outcome.runs[-1]
    envelope = _envelope(result)
    if alias.envelope:
        assert envelope.get("ok") is True, result.describe()
    else:
        assert not envelope, f"{alias.name} now answers an envelope: set its `envelope`\n{result.describe()}"
    saved = _saved(result, envelope, outcome.workdir)
    assert outcome.before == (GRANT_USD * 1_000_000, 0)
    assert outcome.after[1] == 0, f"{alias.name}: a hold is left after the call: {outcome.after}"
    assert outcome.before[0] - outcome.after[0] == alias.price, f"{alias.name} ({alias.why}): charged"
    if alias.gap:
        assert not saved, f"{alias.name} now saves its output: drop its `gap`\n{result.describe()}"
        pytest.xfail(alias.gap)
    assert saved, f"{alias.name}: nothing saved\n{result.describe()}"
    for path in saved:
        assert path.is_file() and path.read_bytes() in FAKE_MEDIA, f"{alias.name}: {path}"


def test_no_callers_key_reaches_a_partner(outcomes: dict[str, Outcome], fakes: FakePartners) -> None:
    keys = [o.key for o in outcomes.values() if o.key]
    assert len(keys) == len(ALIASES)
    received = fakes.received()
    assert {seen.partner for seen in received} >= {"bfl", "kling", "openai", "xai", "vidu", "minimax", "vertexai"}
    for seen in received:
        sent = json.dumps(seen.headers) + seen.query + seen.body.decode("latin-1")
        assert not [key for key in keys if key in sent], f"{seen.partner} {seen.method} {seen.path}"


def test_without_credit_the_client_fails_with_payment_required(
    comfy_python: Path, gateway_stack: tuple[ServedStack, Path], tmp_path: Path
) -> None:
    stack, _ = gateway_stack
    comfy = _cli(comfy_python, stack, tmp_path / "home")
    key = new_customer(stack, "penniless")
    env = {"COMFY_API_BASE_URL": stack.base_url, "COMFY_API_KEY": key}
    result = comfy.run(
        "generate", "ideogram", "--prompt", "x", "--rendering_speed", "TURBO", "--yes", cwd=tmp_path, extra_env=env
    )
    envelope = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 1 and envelope["ok"] is False, result.describe()
    assert envelope["error"]["details"]["status"] == 402
    assert json.loads(envelope["error"]["details"]["body"])["error"] == "insufficient_credit"
    assert balance(stack, key) == (0, 0)
