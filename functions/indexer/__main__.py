"""`python -m functions.indexer reindex [--batch N] [--resume]` and `python -m functions.indexer sync-downloads`.

Both use the index the settings pick (SEARCH_BACKEND, ALGOLIA_*) and the database of DATABASE_URL."""

from __future__ import annotations

import argparse
import sys

from functions.indexer import reindex as full
from functions.indexer import usecases
from shared.bootstrap import get_container


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.indexer")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("reindex", help="send every node's record, then delete the records of nodes gone")
    run.add_argument("--batch", type=int, default=None, help="nodes per batch (default: SEARCH_REINDEX_BATCH)")
    run.add_argument("--resume", action="store_true", help="continue after the last batch an unfinished run sent")
    sync = commands.add_parser("sync-downloads", help="send the records whose download count changed")
    sync.add_argument("--limit", type=int, default=None, help="nodes at most (default: SEARCH_SYNC_BATCH)")
    args = parser.parse_args(argv)
    c = get_container()
    if args.command == "sync-downloads":
        limit = c.settings.search_sync_batch if args.limit is None else max(args.limit, 1)
        print(f"sent {usecases.sync_downloads(c.uow, c.search, limit)} records", file=sys.stderr)
        return 0
    batch = c.settings.search_reindex_batch if args.batch is None else args.batch
    if not 1 <= batch <= 10_000:
        parser.error("--batch must be between 1 and 10000")
    result = full.reindex(c.uow, c.search, batch=batch, resume=args.resume, progress=full.ProgressBar())
    print(
        f"reindexed {result.nodes} nodes: {result.shown} sent, {result.hidden} hidden;"
        f" removed {result.removed_nodes} node and {result.removed_versions} version records",
        file=sys.stderr,
    )
    return 0


def run(argv: list[str]) -> int:
    """`main`, with what went wrong said in one line (what to do included) instead of a traceback."""
    from shared.errors import AppError
    from shared.settings import ConfigurationError

    try:
        return main(argv)
    except (AppError, ConfigurationError) as exc:
        print(f"python -m functions.indexer: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
