"""Search load run: `GET /nodes/search` on the database index, served as functions-framework serves the registry,
under wrk, at 5,000 and 50,000 nodes on SQLite and PostgreSQL, against a bare hello measured in the same run.

`python -m bench.search_bench [--db sqlite postgresql] [--nodes 5000 50000] [--seconds 5] [--connections 16]`
Prints requests per second and p50/p99 latency per query, each with its ratio to the hello's (the registry's read
cache off, so that search itself is measured).
Needs `wrk` (Debian package) and, for PostgreSQL, its binaries (a throwaway cluster is started)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.load import ROOT, Result, bench_env, database, serve, wrk, wrk_missing

# What people type: a common word, two words, a typo (the trigram fallback), a filter, and no words at all.
QUERIES: dict[str, dict[str, str | int]] = {
    "one word": {"search": "video", "limit": 30},
    "two words": {"search": "upscale mask", "limit": 30},
    "exact id": {"search": "comfyui-{id}", "limit": 30},
    "typo": {"search": "vidoe upscael", "limit": 30},
    "word + os": {"search": "depth", "supported_os": "Microsoft :: Windows", "limit": 30},
    "no words, page 5": {"page": 5, "limit": 30},
}


def _settle(url: str) -> None:
    """The seed inserts each version on its own, so the triggers rewrite a node's search row once per version:
    compact that churn away (a live registry updates a row per install, in place) and gather statistics."""
    from sqlalchemy import text

    from shared.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM FULL ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    engine.dispose()


def _first_node(url: str) -> str:
    from bench.load import first_node

    return first_node(url).removeprefix("comfyui-")


def _run(base: str, node: str, seconds: int, connections: int) -> dict[str, Result | str]:
    results: dict[str, Result | str] = {}
    for name, query in QUERIES.items():
        params = {k: str(v).replace("{id}", node) for k, v in query.items()}
        try:
            results[name] = wrk(f"{base}/nodes/search?{urlencode(params)}", seconds, connections)
        except RuntimeError as exc:
            results[name] = str(exc).splitlines()[0]
    return results


def _measure(
    kind: str, nodes: int, workdir: Path, env: dict[str, str], baseline: Result, seconds: int, connections: int
) -> None:
    started = time.monotonic()
    with database(kind, nodes, workdir) as url:
        seeded = time.monotonic() - started
        _settle(url)
        print(f"{kind:10} {nodes:>6} (seeded with search documents in {seeded:.0f} s)")
        registry = ROOT / "functions/registry/main.py"
        with serve("registry", registry, {**env, "DATABASE_URL": url}) as base:
            results = _run(base, _first_node(url), seconds, connections)
    for name, r in results.items():
        if isinstance(r, str):
            print(f"{kind:10} {nodes:>6} {name:18} skipped: {r}")
            continue
        print(f"{kind:10} {nodes:>6} {name:18} {r.against(baseline)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench")
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--nodes", nargs="+", type=int, default=[5000, 50_000])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    if wrk_missing():
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    # Search itself is measured: the registry's read cache would answer every repeated query.
    env = {**bench_env(workdir), "SEARCH_BACKEND": "database", "READ_CACHE_SECONDS": "0"}
    try:
        with serve("hello", ROOT / "bench/hello/main.py", env) as hello:
            baseline = wrk(hello + "/", args.seconds, args.connections)
        print(
            f"bare functions-framework hello: {baseline.rps:.0f} req/s, p50 {baseline.p50_ms:.2f} ms, "
            f"p99 {baseline.p99_ms:.2f} ms"
        )
        print(
            f"{'db':10} {'nodes':>6} {'query':18} {'req/s':>7} {'ratio':>6} "
            f"{'p50 ms':>8} {'x':>5} {'p99 ms':>8} {'x':>5}"
        )
        for kind in args.db:
            for nodes in args.nodes:
                _measure(kind, nodes, workdir, env, baseline, args.seconds, args.connections)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
