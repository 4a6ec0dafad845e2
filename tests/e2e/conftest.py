"""End-to-end fixtures: the local stack served on a free loopback port, and the real comfy-cli aimed at it.

comfy-cli lives in its own venv (`make comfy-cli`); `make unit` passes its `comfy` script in COMFY_CLI. It is run
through a small bootstrap (see COMFY_BOOTSTRAP) that points its registry client at our port and refuses every
connection that is not to loopback, so a run never reaches the internet.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.auth import emulator

ROOT = Path(__file__).resolve().parents[2]
FIREBASE_PROJECT = "demo-comfy-registry"
STARTUP_TIMEOUT_S = 30.0
COMFY_TIMEOUT_S = 180.0
BLOCKED_MARKER = "E2E-BLOCKED-NETWORK"

# Run as `<comfy-venv python> -c COMFY_BOOTSTRAP <comfy args...>`. comfy-cli builds `registry_api = RegistryAPI()` when
# comfy_cli/command/custom_nodes/command.py is imported, and RegistryAPI.__init__ calls determine_base_url(); patching
# the class before comfy_cli's entry point runs therefore reaches that instance whenever it is created.
COMFY_BOOTSTRAP = f"""
import ipaddress, os, socket, sys

_BASE = os.environ["E2E_REGISTRY_URL"]
_MARK = {BLOCKED_MARKER!r}

def _loopback(host):
    if host in ("localhost", "localhost.", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

def _deny(what):
    sys.stderr.write(f"{{_MARK}}: {{what}}\\n")
    sys.stderr.flush()
    raise OSError(f"{{_MARK}}: {{what}}")

_getaddrinfo = socket.getaddrinfo
def _guarded_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if not _loopback(host):
        _deny(f"resolve {{host!r}}")
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _guarded_getaddrinfo

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _deny(f"connect {{address!r}}")
def _guarded_connect(self, address):
    _check(self, address)
    return _connect(self, address)
def _guarded_connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)
socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex

from comfy_cli.registry import api as _api
_api.RegistryAPI.determine_base_url = lambda self: _BASE

from comfy_cli.__main__ import main
sys.argv[0] = "comfy"
main()
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class ServedStack:
    base_url: str
    log_path: Path
    http: requests.Session

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base_url + path, timeout=30, **kwargs)

    def login(self, uid: str) -> dict[str, str]:
        token = emulator.mint(FIREBASE_PROJECT, uid, email=f"{uid}@example.com", name=uid.title())
        return {"Authorization": f"Bearer {token}"}

    def publisher_with_token(self, uid: str, publisher_id: str) -> str:
        """Create a publisher as `uid` and return a personal access token for it."""
        auth = self.login(uid)
        r = self.post("/publishers", json={"id": publisher_id, "name": f"{publisher_id} name"}, headers=auth)
        assert r.status_code == 201, f"POST /publishers -> {r.status_code} {r.text}"
        r = self.post(f"/publishers/{publisher_id}/tokens", json={"name": "ci"}, headers=auth)
        assert r.status_code == 201, f"POST /publishers/{publisher_id}/tokens -> {r.status_code} {r.text}"
        return str(r.json()["token"])


@pytest.fixture(scope="session")
def served_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    """`python -m local serve` on a free 127.0.0.1 port with a fresh DATA_DIR, in its own process group."""
    with serve_stack(tmp_path_factory.mktemp("stack"), {}) as stack:
        yield stack


@contextmanager
def serve_stack(workdir: Path, settings: dict[str, str]) -> Iterator[ServedStack]:
    """The local stack served from `workdir` with these settings over the defaults, stopped at the end."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for var in ("DATABASE_URL", "PUBLIC_BASE_URL", "BLOB_BACKEND", "EVENTS_BACKEND", "PUBSUB_EMULATOR_HOST"):
        env.pop(var, None)
    env.update(
        APP_ENV="local",
        HOST="127.0.0.1",
        PORT=str(port),
        DATA_DIR=str(workdir / "data"),
        FIREBASE_PROJECT_ID=FIREBASE_PROJECT,
        FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    http = requests.Session()
    http.trust_env = False  # loopback only: never through a proxy from the environment
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local", "serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the local stack exited with {proc.returncode} during startup:\n{_tail(log_path)}")
            try:
                r = http.get(f"{base_url}/health", timeout=2)
                if r.status_code == 200 and r.text.strip() == "OK":
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the local stack did not answer /health within {STARTUP_TIMEOUT_S:.0f}s:\n{_tail(log_path)}"
                )
            time.sleep(0.2)
        yield ServedStack(base_url=base_url, log_path=log_path, http=http)
    finally:
        http.close()
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass


@dataclass
class ComfyResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return (
            f"comfy {' '.join(self.args)} -> rc={self.returncode} in {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


@dataclass
class ComfyCli:
    python: Path
    home: Path
    base_url: str
    timings: list[tuple[str, float]]

    def run(self, *args: str, cwd: Path, extra_env: dict[str, str] | None = None) -> ComfyResult:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "COMFY_API_BASE_URL", "COMFY_OUTPUT"):
            env.pop(var, None)
        env.update(
            HOME=str(self.home),
            DO_NOT_TRACK="1",
            COMFY_NO_TELEMETRY="1",
            ENVIRONMENT="dev",
            E2E_REGISTRY_URL=self.base_url,
            NO_PROXY="127.0.0.1,localhost",
            GIT_CONFIG_NOSYSTEM="1",
            PYTHONIOENCODING="utf-8",
            NO_COLOR="1",
            COLUMNS="200",
        )
        env.update(extra_env or {})
        argv = ["--skip-prompt", *args]
        started = time.monotonic()
        proc = subprocess.run(
            [str(self.python), "-c", COMFY_BOOTSTRAP, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMFY_TIMEOUT_S,
        )
        seconds = time.monotonic() - started
        label = " ".join("<token>" if i and argv[i - 1] == "--token" else a for i, a in enumerate(argv))
        self.timings.append((label, seconds))
        print(f"\n[e2e] comfy {label}: rc={proc.returncode} in {seconds:.2f}s")
        if os.environ.get("E2E_VERBOSE"):
            print(proc.stdout, proc.stderr)
        result = ComfyResult(argv, proc.returncode, proc.stdout, proc.stderr, seconds)
        assert BLOCKED_MARKER not in result.output, f"comfy-cli tried to leave loopback:\n{result.describe()}"
        return result


def _comfy_python(script: Path) -> Path:
    """The interpreter of comfy-cli's venv: the console script's shebang, else its sibling `python`."""
    first = script.read_text(errors="replace").splitlines()[:1]
    if first and first[0].startswith("#!"):
        candidate = Path(first[0][2:].strip().split()[0])
        if candidate.is_file():
            return candidate
    return script.parent / "python"


@pytest.fixture(scope="session")
def comfy_python() -> Path:
    value = os.environ.get("COMFY_CLI")
    if not value:
        pytest.skip("COMFY_CLI is not set: run `make comfy-cli` and pass its bin/comfy in COMFY_CLI (`make unit` does)")
    script = Path(value)
    if not script.is_file():
        pytest.skip(f"COMFY_CLI={value} does not exist: run `make comfy-cli` first")
    python = _comfy_python(script)
    if not python.is_file():
        pytest.skip(f"no Python interpreter next to COMFY_CLI={value} (looked for {python})")
    return python


@pytest.fixture
def comfy(comfy_python: Path, served_stack: ServedStack, tmp_path: Path) -> Iterator[ComfyCli]:
    home = tmp_path / "home"
    home.mkdir()
    cli = ComfyCli(python=comfy_python, home=home, base_url=served_stack.base_url, timings=[])
    yield cli
    if cli.timings:
        print("\n[e2e] comfy-cli timings:")
        for label, seconds in cli.timings:
            print(f"[e2e]   {seconds:6.2f}s  comfy {label}")
