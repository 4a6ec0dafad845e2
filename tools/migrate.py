"""The deploy-time migration: `python -m tools.migrate [--grant USER=PROFILE,...]`.

It runs shared.db.migrate's upgrade while holding a PostgreSQL advisory lock, because one push that changes
shared/ starts every function folder's build and each build migrates: the lock makes the second wait and then
find nothing to do. Then it grants each function's IAM database user the rights of its profile
(shared/db/grants.py): the migrator creates (and owns) every table, and an IAM user starts with no rights at all.
"""

from __future__ import annotations

import argparse
import re
import sys

from sqlalchemy import text

from shared.db import grants, migrate
from shared.db.engine import make_engine
from shared.settings import get_settings

# Any fixed number: every deploy of this registry takes the same lock.
LOCK_KEY = 0x636F6D6679  # "comfy"
# Cloud SQL IAM user names: a service account's e-mail without ".gserviceaccount.com".
_USER = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,62}$")


def run(url: str, users: dict[str, str]) -> None:
    """Migrate, then give each user (a database role) the rights of its profile."""
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
                for user, profile in users.items():
                    grants.grant(conn, user, profile)
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def parse_users(value: str) -> dict[str, str]:
    """`user=profile,user=profile` (terraform's cloudbuild_substitutions) as {user: profile}."""
    users: dict[str, str] = {}
    for item in (i.strip() for i in value.split(",") if i.strip()):
        user, _, profile = item.rpartition("=")
        if not _USER.match(user) or profile not in grants.PROFILES:
            raise argparse.ArgumentTypeError(
                f"not USER=PROFILE with a database user and one of {sorted(grants.PROFILES)}: {item!r}"
            )
        users[user] = profile
    return users


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.migrate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--grant",
        type=parse_users,
        default={},
        metavar="USER=PROFILE,...",
        help=f"database users and the profile of table rights each gets ({', '.join(grants.PROFILES)})",
    )
    args = parser.parse_args(argv)
    run(get_settings().resolved_database_url, args.grant)
    granted = ", ".join(f"{user} ({profile})" for user, profile in args.grant.items())
    print(f"migrated; granted table rights to {granted or 'nobody'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
