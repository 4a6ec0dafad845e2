"""`python -m local serve` runs the stack; `python -m local token ...` prints a local login token; `python -m local
grant --customer UID --usd 10` credits a customer through the ledger (as a promotion), so the gateway can be tried
without Stripe; `python -m local fake-partners` serves loopback fake partners and prints the settings that plug them
in."""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal

# firebase-admin reads the emulator switch from the process environment; Settings checks it is safe.
os.environ.setdefault("APP_ENV", "local")
os.environ.setdefault("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve every HTTP function on HOST:PORT (default 127.0.0.1:8080)")
    tok = sub.add_parser("token", help="print a Firebase-emulator ID token for the local stack")
    tok.add_argument("--uid", default="local-user")
    tok.add_argument("--email", default="local-user@example.com")
    tok.add_argument("--name", default="Local User")
    tok.add_argument("--admin", action="store_true")
    fakes = sub.add_parser("fake-partners", help="serve loopback fake partners and print the settings to use them")
    fakes.add_argument("--port", type=int, default=8090)
    grant = sub.add_parser("grant", help="credit a customer through the ledger, as a promotion")
    grant.add_argument("--customer", required=True, help="the customer's id (their Firebase uid)")
    grant.add_argument("--usd", required=True, type=Decimal, help="how much, in USD (whole micro-USD)")
    grant.add_argument("--reason", default="local grant")
    grant.add_argument("--key", help="an idempotency key: the same key credits once (default: a new one)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)

    from shared.settings import get_settings

    settings = get_settings()
    if args.command == "token":
        from shared.auth import emulator

        print(
            emulator.mint(
                settings.firebase_project_id,
                args.uid,
                email=args.email,
                name=args.name,
                admin=args.admin,
                lifetime=7 * 24 * 3600,
            )
        )
        return 0

    if args.command == "grant":
        return _grant(args)

    if args.command == "fake-partners":
        return _fake_partners(args.port)

    from local.server import serve
    from local.stack import LocalStack
    from shared.observe import logs

    logs.configure(settings)  # plain text, or LOG_FORMAT=json for the lines Cloud Logging would read
    stack = LocalStack(settings)
    stack.start_timers()
    print(f"registry listening on {settings.base_url} (data in {settings.data_dir.resolve()})", flush=True)
    serve(settings.host, settings.port, stack)
    return 0


def _fake_partners(port: int) -> int:
    import json
    import threading

    from local.fake_partners import CREDENTIALS, FakePartners

    fakes = FakePartners()
    fakes.start(port=port)
    print(f"fake partners on {fakes.base}; serve the stack with:", flush=True)
    print(f"export PARTNER_BASE_URLS='{json.dumps(fakes.base_urls())}'")
    print(f"export PARTNER_CREDENTIALS='{json.dumps(CREDENTIALS)}'", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fakes.stop()
    return 0


def _grant(args: argparse.Namespace) -> int:
    import uuid

    from functions.billing.customers.usecases import grant_promotion
    from shared.bootstrap import bootstrap
    from shared.db import migrate
    from shared.settings import get_settings

    micros = args.usd * 1_000_000
    if micros <= 0 or micros != micros.to_integral_value():
        print("--usd must be positive, in whole micro-USD", file=sys.stderr)
        return 2
    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    key = args.key or f"grant:{uuid.uuid4()}"
    after = grant_promotion(bootstrap(settings).billing_uow(), args.customer, int(micros), key, args.reason)
    print(f"{args.customer}: {Decimal(after.available).scaleb(-6):f} USD available ({after.held} micro-USD held)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["serve"]))
