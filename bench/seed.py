"""A seeded data generator: `python -m bench.seed DATABASE_URL [--nodes 5000] [--versions-per-node 10] [--seed 1]`.

Writes publishers, nodes and versions with the shapes real packs have, migrating the database first."""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from shared import archives
from shared.db import migrate
from shared.db.engine import make_engine
from shared.db.models import Node, NodeVersion, Publisher
from shared.naming import fold
from shared.version_numbers import sort_key

WORDS = (
    "video",
    "image",
    "upscale",
    "control",
    "lora",
    "mask",
    "prompt",
    "sampler",
    "face",
    "depth",
    "audio",
    "animate",
    "latent",
    "segment",
    "style",
    "inpaint",
    "tile",
    "pose",
    "text",
    "utility",
)


def seed(url: str, nodes: int, versions_per_node: int, rng_seed: int = 1, batch: int = 2000) -> None:
    rng = random.Random(rng_seed)
    migrate.upgrade(url)
    engine = make_engine(url)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    publishers = [
        {
            "id": f"pub-{i:05d}",
            "normalized_id": fold(f"pub-{i:05d}"),
            "name": f"Publisher {i}",
            "created_at": start,
            "updated_at": start,
        }
        for i in range(max(1, nodes // 10))
    ]
    node_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    for i in range(nodes):
        node_id = f"comfyui-{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i:06d}"
        created = start + timedelta(minutes=i)
        node_rows.append(
            {
                "id": node_id,
                "normalized_id": fold(node_id),
                "publisher_id": publishers[i % len(publishers)]["id"],
                "name": node_id.replace("-", " ").title(),
                "description": " ".join(rng.choices(WORDS, k=20)),
                "license": '{"text": "MIT"}',
                "repository_url": f"https://github.com/example/{node_id}",
                "tags": rng.sample(WORDS, 3),
                "total_install": rng.randint(0, 100_000),
                "total_star": rng.randint(0, 500),
                "total_review": rng.randint(0, 100),
                "supported_os": rng.choice([[], ["OS Independent"], ["Microsoft :: Windows"]]),
                "created_at": created,
                "updated_at": created,
                "changed_at": created,
            }
        )
        for v in range(versions_per_node):
            version = f"1.{v // 10}.{v % 10}"
            status = "active" if v < versions_per_node - 1 or rng.random() < 0.8 else "pending"
            version_rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "node_id": node_id,
                    "version": version,
                    "sort_key": sort_key(version),
                    "pip_dependencies": ["numpy", "torch"],
                    "status": status,
                    "storage_path": archives.upload_path("x", node_id, version, "seeded"),
                    # As if scanned and released (the archives themselves are not written).
                    "release_path": archives.release_path("x", node_id, version) if status == "active" else None,
                    "created_at": created + timedelta(hours=v),
                    "updated_at": created + timedelta(hours=v),
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Publisher), publishers)
        for table, rows in ((Node, node_rows), (NodeVersion, version_rows)):
            for i in range(0, len(rows), batch):
                conn.execute(insert(table), rows[i : i + batch])
    engine.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    parser.add_argument("database_url")
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--versions-per-node", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    seed(args.database_url, args.nodes, args.versions_per_node, args.seed)
    print(f"seeded {args.nodes} nodes, {args.nodes * args.versions_per_node} versions into {args.database_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
