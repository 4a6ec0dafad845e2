"""Cold start: importing each function's entry module, against importing functions-framework alone.

`python -m bench.cold_start [--runs 7]` prints the median import time of each in a fresh interpreter, the ratio
against functions-framework (budget: at most 1.5x), and for each HTTP entry point (one per registry area, and
billing) the time to load it and answer its first request too, since a lazy import only moves work there."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_MODULES = {
    "registry": "functions.registry.main",
    "scanner": "functions.scanner.main",
    "indexer": "functions.indexer.main",
    "billing": "functions.billing.main",
}
FIRST_REQUEST = """
import time, functions_framework
t = time.perf_counter()
app = functions_framework.create_app({target!r}, {source!r} + "/main.py", "http")
assert app.test_client().get({health!r}).status_code == 200
print(time.perf_counter() - t)
"""


def timed(code: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return float(out.strip().splitlines()[-1])


def import_time(module: str, env: dict[str, str]) -> float:
    return timed(f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)", env)


_HEALTH = {"functions/billing": "/billing/health", "functions/proxy": "/proxy/health"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "local", "PYTHONDONTWRITEBYTECODE": "1"}
    base = statistics.median(import_time("functions_framework", env) for _ in range(args.runs))
    print(f"functions_framework alone: {base * 1000:.0f} ms (median of {args.runs})")
    for name, module in ENTRY_MODULES.items():
        if not (ROOT / module.replace(".", "/")).with_suffix(".py").exists():
            continue
        t = statistics.median(import_time(module, env) for _ in range(args.runs))
        print(f"{name:10} import {t * 1000:6.0f} ms  ratio {t / base:4.2f}  (budget 1.50)")
    from shared.routing import HTTP_FUNCTIONS

    for fn in HTTP_FUNCTIONS:
        target, health = fn.entry_point, _HEALTH.get(fn.source, "/health")
        code = FIRST_REQUEST.format(target=target, source=fn.source, health=health)
        first = statistics.median(timed(code, env) for _ in range(args.runs))
        print(f"{target:22} load + first request {first * 1000:6.0f} ms  ratio {first / base:4.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
