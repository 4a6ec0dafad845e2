"""The deploy-time migration: `python -m tools.migrate [--grant USER,USER...]`.

It runs shared.db.migrate's upgrade while holding a PostgreSQL advisory lock, because one push that changes
shared/ starts every function folder's build and each build migrates: the lock makes the second wait and then
find nothing to do. Then it grants the functions' IAM database users the use of the tables: the migrator
creates (and owns) every table, and an IAM user starts with no rights at all.
"""

from __future__ import annotations

import argparse
import re
import sys

from sqlalchemy import Connection, text

from shared.db import migrate
from shared.db.engine import make_engine
from shared.settings import get_settings

# Any fixed number: every deploy of this registry takes the same lock.
LOCK_KEY = 0x636F6D6679  # "comfy"
# Cloud SQL IAM user names: a service account's e-mail without ".gserviceaccount.com".
_USER = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,62}$")


def grant(conn: Connection, users: list[str]) -> None:
    quote = conn.dialect.identifier_preparer.quote_identifier
    for user in users:
        role = quote(user)
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))


def run(url: str, users: list[str]) -> None:
    if not url.startswith("postgresql"):
        # SQLite (a local try-out): one process at a time, and no roles to grant.
        migrate.upgrade(url)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            conn.commit()
            try:
                migrate.upgrade(url)
                grant(conn, users)
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def parse_users(value: str) -> list[str]:
    users = [u.strip() for u in value.split(",") if u.strip()]
    bad = [u for u in users if not _USER.match(u)]
    if bad:
        raise argparse.ArgumentTypeError(f"not database user names: {bad}")
    return users


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.migrate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--grant", type=parse_users, default=[], metavar="USER,USER", help="database users to grant table use to"
    )
    args = parser.parse_args(argv)
    run(get_settings().resolved_database_url, args.grant)
    print(f"migrated; granted table use to {', '.join(args.grant) or 'nobody'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
