"""Run the Alembic migrations: `python -m shared.db.migrate [upgrade|check]`."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.settings import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config(url), revision)


def main(argv: list[str]) -> int:
    url = get_settings().resolved_database_url
    action = argv[0] if argv else "upgrade"
    if action == "upgrade":
        upgrade(url)
    elif action == "check":
        command.check(config(url))
    else:
        print(f"unknown action {action!r}; use upgrade or check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
