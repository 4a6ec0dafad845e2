"""Load run: the registry served by gunicorn (as functions-framework serves it) under wrk, against a bare hello.

`python -m bench.load [--db sqlite postgresql] [--scales 1 10] [--modes cached uncached] [--seconds 5]
[--connections 16] [--endpoints ... mix] [--mix-seconds 8]`
Prints requests per second and p50/p99 latency per endpoint, and their ratios to the hello measured in the same run,
with the instance's read cache as deployed (`cached`) and with it off (`uncached`: every request reaches the
database, every install writes its download). `mix` is the realistic mix of bench/mix.py (Manager paging, skewed node
reads and installs, 100 distinct searches), replayed against a freshly started instance.
Needs `wrk` (Debian package) and, for PostgreSQL, its binaries (a throwaway cluster is started)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import mix
from bench.seed import seed

ROOT = Path(__file__).resolve().parent.parent
BASE_NODES, VERSIONS_PER_NODE = 5000, 10


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float

    def against(self, baseline: Result) -> str:
        """req/s and its ratio to the baseline's, then p50 and p99 and their ratios."""
        return (
            f"{self.rps:>7.0f} {self.rps / baseline.rps:>6.2f} {self.p50_ms:>8.2f} "
            f"{self.p50_ms / baseline.p50_ms:>5.1f} {self.p99_ms:>8.2f} {self.p99_ms / baseline.p99_ms:>5.1f}"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(target: str, source: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        target,
        "--source",
        str(source),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


def wrk_missing() -> bool:
    if shutil.which("wrk"):
        return False
    print("wrk is not installed: apt-get install wrk", file=sys.stderr)
    return True


def bench_env(workdir: Path) -> dict[str, str]:
    return {"APP_ENV": "local", "DATA_DIR": str(workdir), "LOCAL_SIGNING_KEY": "bench"}


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> Result:
    lua = ["-s", str(script)] if script is not None else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *lua, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    return Result(rps, pct("50"), pct("99"))


def endpoints(nodes: int, node: str) -> dict[str, str]:
    return {
        "GET /nodes/{id}": f"/nodes/{node}",
        "GET /nodes?page=..&limit=30": f"/nodes?page={max(1, nodes // 60)}&limit=30",  # a middle page
        "GET /nodes/{id}/install": f"/nodes/{node}/install",
        "GET /nodes/search": "/nodes/search?search=video&limit=30",
    }


@contextmanager
def database(kind: str, nodes: int, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{nodes}.sqlite3'}"
        seed(url, nodes, VERSIONS_PER_NODE)
        yield url
        return
    from tests.pg import Cluster

    cluster = Cluster()
    reason = cluster.unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    try:
        url = cluster.start()
        seed(url, nodes, VERSIONS_PER_NODE)
        yield url
    finally:
        cluster.stop()


def first_node(url: str) -> str:
    from sqlalchemy import text

    from shared.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        node = str(conn.execute(text("SELECT id FROM nodes ORDER BY id LIMIT 1")).scalar_one())
    engine.dispose()
    return node


MODES = {
    # The instance's read cache and download tally as deployed (shared/settings.py defaults)...
    "cached": {},
    # ...and every request answered from the database, each download written as it happens.
    "uncached": {"READ_CACHE_SECONDS": "0", "DOWNLOAD_FLUSH_SECONDS": "0"},
}


def node_ids(url: str) -> list[str]:
    from sqlalchemy import text

    from shared.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        ids = [str(i) for i in conn.execute(text("SELECT id FROM nodes ORDER BY id")).scalars()]
    engine.dispose()
    return ids


def run_mix(label: str, base: str, settings: dict[str, str], args: argparse.Namespace, baseline: Result) -> None:
    """The realistic mix (bench/mix.py) against a freshly started instance: its cache starts empty."""
    script = mix.wrk_script(mix.paths(base, node_ids(settings["DATABASE_URL"])), Path(settings["DATA_DIR"]))
    print(f"{label} {wrk(base + '/', args.mix_seconds, args.connections, script).against(baseline)}")


def run_registry(prefix: str, nodes: int, settings: dict[str, str], args: argparse.Namespace, baseline: Result) -> None:
    node = first_node(settings["DATABASE_URL"])
    if "mix" in args.endpoints:
        with serve("registry", ROOT / "functions/registry/main.py", settings) as base:
            run_mix(f"{prefix} {'realistic mix':28}", base, settings, args, baseline)
    with serve("registry", ROOT / "functions/registry/main.py", settings) as base:
        for name, path in endpoints(nodes, node).items():
            if name not in args.endpoints:
                continue
            label = f"{prefix} {name:28}"
            with urllib.request.urlopen(base + path, timeout=60) as warm_up:  # first use: imports, connections
                warm_up.read()
            try:
                r = wrk(base + path, args.seconds, args.connections)
            except RuntimeError as exc:
                print(f"{label} skipped: {str(exc).splitlines()[0]}")
                continue
            print(f"{label} {r.against(baseline)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--scales", nargs="+", type=int, default=[1, 10])
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=list(MODES))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    every = [*endpoints(1, ""), "mix"]
    parser.add_argument("--endpoints", nargs="+", choices=every, default=every)
    parser.add_argument("--mix-seconds", type=int, default=8)
    args = parser.parse_args(argv)
    if wrk_missing():
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    env = bench_env(workdir)
    with serve("hello", ROOT / "bench/hello/main.py", env) as hello:
        baseline = wrk(hello + "/", args.seconds, args.connections)
    print(
        f"bare functions-framework hello: {baseline.rps:.0f} req/s, p50 {baseline.p50_ms:.2f} ms, "
        f"p99 {baseline.p99_ms:.2f} ms (ratios below: req/s over the hello's, latencies over the hello's)"
    )
    print(
        f"{'db':10} {'nodes':>6} {'mode':8} {'endpoint':28} {'req/s':>7} {'ratio':>6} "
        f"{'p50 ms':>8} {'x':>5} {'p99 ms':>8} {'x':>5}"
    )
    for kind in args.db:
        for scale in args.scales:
            nodes = BASE_NODES * scale
            with database(kind, nodes, workdir) as url:
                for mode in args.modes:
                    settings = {**env, "DATABASE_URL": url, **MODES[mode]}
                    run_registry(f"{kind:10} {nodes:>6} {mode:8}", nodes, settings, args, baseline)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
