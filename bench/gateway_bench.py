"""The gateway's added latency: the same partner call made straight to the loopback fake partner and through the
gateway (the local stack served on loopback, SQLite by default), p50 and p99 of each and the difference (budget: under
3 ms at the median), and the time to the first byte of a streamed answer both ways, measured while the partner still
holds its last event back (so nothing can have been buffered whole).

`python -m bench.gateway_bench [--calls 300] [--database-url URL]`"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

import httpx

from local.fake_partners import CREDENTIALS, FakePartners
from shared.ledger.accounts import EntryKind

BODY = {"prompt": "a fox", "rendering_speed": "TURBO"}
PATH = "/ideogram-v3/generate"


def timed(call: Callable[[], None], calls: int) -> list[float]:
    for _ in range(min(20, calls)):  # warm the pools and caches
        call()
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def first_byte(http: httpx.Client, fakes: FakePartners, url: str, headers: dict[str, str]) -> float:
    gate = fakes.state.stream_gate = threading.Event()
    started = time.perf_counter()
    with http.stream("POST", url, json={"model": "gpt-4.1", "input": "hi", "stream": True}, headers=headers) as r:
        pieces = r.iter_raw()
        next(pieces)
        took = (time.perf_counter() - started) * 1000
        gate.set()
        for _ in pieces:
            pass
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from local.server import make
    from local.stack import LocalStack
    from shared.settings import get_settings

    fakes = FakePartners()
    fakes.start()
    with tempfile.TemporaryDirectory() as tmp:
        # The functions read their settings from the environment when they load, as in the cloud.
        os.environ.update(
            APP_ENV="local",
            DATA_DIR=tmp,
            PARTNER_BASE_URLS=json.dumps(fakes.base_urls()),
            PARTNER_CREDENTIALS=json.dumps(CREDENTIALS),
            PROXY_CALLS_PER_MINUTE="1000000",
            FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099",
        )
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        stack = LocalStack(get_settings())
        server = make("127.0.0.1", 0, stack)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.port}"
        key = _customer(stack, base)
        with httpx.Client(timeout=30) as http:
            direct_headers = {"Api-Key": CREDENTIALS["ideogram"]}
            ours = {"X-API-Key": key}
            direct = timed(
                lambda: _ok(http.post(f"{fakes.base}/ideogram{PATH}", json=BODY, headers=direct_headers)), args.calls
            )
            gateway = timed(lambda: _ok(http.post(f"{base}/proxy/ideogram{PATH}", json=BODY, headers=ours)), args.calls)
            sse_direct = [
                first_byte(
                    http,
                    fakes,
                    f"{fakes.base}/openai/v1/responses",
                    {"Authorization": f"Bearer {CREDENTIALS['openai']}"},
                )
                for _ in range(20)
            ]
            sse_gateway = [first_byte(http, fakes, f"{base}/proxy/openai/v1/responses", ours) for _ in range(20)]
        server.shutdown()
        stack.stop()
    fakes.stop()
    print(f"gateway bench: {args.calls} sync JSON calls each way, database {args.database_url or 'sqlite'}")
    for name, samples in (("direct to the partner", direct), ("through the gateway", gateway)):
        print(f"  {name:24} p50 {p(samples, 50):7.2f} ms   p99 {p(samples, 99):7.2f} ms")
    added = f"p50 {p(gateway, 50) - p(direct, 50):7.2f} ms   p99 {p(gateway, 99) - p(direct, 99):7.2f} ms"
    print(f"  {'added by the gateway':24} {added}   (budget: p50 under 3 ms)")
    print(f"  {'ratio gateway/direct':24} p50 {p(gateway, 50) / p(direct, 50):7.2f}x")
    direct_first, gateway_first = statistics.median(sse_direct), statistics.median(sse_gateway)
    ttfb = f"direct p50 {direct_first:.2f} ms, through the gateway {gateway_first:.2f} ms"
    print(f"  first byte of a stream: {ttfb} (both before the partner's last event)")


def _ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")


def _customer(stack: object, base: str) -> str:
    from shared.auth import emulator

    c = stack.container  # type: ignore[attr-defined]
    token = emulator.mint(c.settings.firebase_project_id, "bench", email="bench@example.com", name="Bench")
    auth = {"Authorization": f"Bearer {token}"}
    httpx.post(f"{base}/customers", headers=auth)
    with c.billing_uow() as uow:
        uow.ledger.grant("bench-credit", EntryKind.PROMOTION, "bench", 1_000_000_000)
        uow.commit()
    created = httpx.post(f"{base}/customers/api-keys", json={"name": "bench"}, headers=auth).json()
    return str(created["api_key"]["plaintext_key"])


if __name__ == "__main__":
    main()
