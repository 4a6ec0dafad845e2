"""The realistic read mix that `bench.load` replays through wrk: what the registry's clients send in a busy minute.

- ComfyUI-Manager syncs: every page of `GET /nodes?page=N&limit=30&comfyui_version=..&form_factor=..`, page 1 to
  `totalPages`, for a few client profiles (each profile is a different query string, so a different cache key);
- node reads over every id with a skewed (Zipf) popularity, one in ten of them an install;
- searches: 100 distinct two-word queries, the popular ones asked more often, some of them for their second page.

The requests are shuffled with a fixed seed into one long list that wrk's threads walk from different offsets, so a
run of a few seconds sees mostly first requests of each URL (misses) and some repeats, as a deployed instance does.
"""

from __future__ import annotations

import itertools
import json
import random
import urllib.parse
import urllib.request
from pathlib import Path

from bench.seed import WORDS

# ComfyUI-Manager's query for a client: its ComfyUI version and form factor (functions/registry/reads/usecases.py).
PROFILES = (
    ("v0.3.40", "git-linux"),
    ("v0.3.44", "desktop-win"),
    ("v0.3.40", "git-linux"),  # a second client with the first one's profile: the same URLs again
)
NODE_READS = 12_000
INSTALL_SHARE = 0.1
SEARCHES, DISTINCT_SEARCHES = 1_200, 100
ZIPF_S = 1.1


def _total_pages(base: str, query: str) -> int:
    with urllib.request.urlopen(f"{base}/nodes?{query}", timeout=60) as answer:
        return int(json.load(answer)["totalPages"])


def _zipf_weights(n: int) -> list[float]:
    return [1.0 / (rank**ZIPF_S) for rank in range(1, n + 1)]


def paths(base: str, node_ids: list[str], rng_seed: int = 7) -> list[str]:
    """The mix as a list of request paths (asks the server each profile's `totalPages`)."""
    rng = random.Random(rng_seed)
    out: list[str] = []
    for version, form_factor in PROFILES:
        query = urllib.parse.urlencode({"limit": 30, "comfyui_version": version, "form_factor": form_factor})
        pages = _total_pages(base, f"page=1&{query}")
        out += [f"/nodes?page={page}&{query}" for page in range(1, pages + 1)]
    popular = node_ids[:]
    rng.shuffle(popular)  # popularity unrelated to id order
    for node in rng.choices(popular, weights=_zipf_weights(len(popular)), k=NODE_READS):
        out.append(f"/nodes/{node}/install" if rng.random() < INSTALL_SHARE else f"/nodes/{node}")
    pairs = list(itertools.combinations(WORDS, 2))
    rng.shuffle(pairs)
    queries = [f"{a} {b}" for a, b in pairs[:DISTINCT_SEARCHES]]
    for query in rng.choices(queries, weights=_zipf_weights(len(queries)), k=SEARCHES):
        page = 2 if rng.random() < 0.2 else 1
        out.append("/nodes/search?" + urllib.parse.urlencode({"search": query, "page": page, "limit": 30}))
    rng.shuffle(out)
    return out


def wrk_script(request_paths: list[str], directory: Path) -> Path:
    """A wrk Lua script that walks the list, each thread from its own offset, wrapping at the end."""
    listing = ",\n".join(json.dumps(p) for p in request_paths)  # JSON strings are valid Lua strings here (ASCII)
    script = directory / "mix.lua"
    script.write_text(
        f"local paths = {{\n{listing}\n}}\n"
        "local threads = 0\n"
        "function setup(thread) thread:set('offset', threads * 7919); threads = threads + 1 end\n"
        "function init(args) n = offset % #paths end\n"
        "function request() n = n % #paths + 1; return wrk.format('GET', paths[n]) end\n"
    )
    return script
