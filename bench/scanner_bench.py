"""Scanner throughput and peak memory on a large, realistic node pack built at run time.

    python -m bench.scanner_bench [--py-files 2000] [--model-mb 40]

Prints figures and ratios against a baseline measured in the same run: reading (decompressing) every member of
the same archive with plain zipfile. Not part of the tests; nothing is asserted.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from functions.scanner import ScanLimits, scan_archive

MB = 1024 * 1024

_NODE = """import os
import subprocess

import numpy as np
import requests
import torch

import folder_paths

MODEL_URL = "https://huggingface.co/example/model-{i}/resolve/main/model.safetensors"
DEFAULTS = {{"strength": 1.0, "steps": {i}, "names": ["a", "b", "c"]}}


def _download(target):
    with requests.get(MODEL_URL, stream=True, timeout=60) as response:
        with open(target, "wb") as handle:
            for chunk in response.iter_content(1 << 20):
                handle.write(chunk)
    return target


def _encode(frames, path):
    args = ["ffmpeg", "-y", "-i", "-", "-c:v", "libx264", path]
    subprocess.run(args, input=np.asarray(frames).tobytes(), check=True, env=os.environ.copy())


class Node{i}:
    @classmethod
    def INPUT_TYPES(cls):
        return {{
            "required": {{
                "image": ("IMAGE",),
                "strength": ("FLOAT", {{"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}}),
                "model": (folder_paths.get_filename_list("checkpoints"),),
            }},
            "optional": {{"mask": ("MASK",)}},
        }}

    RETURN_TYPES = ("IMAGE", "MASK")
    RETURN_NAMES = ("image", "mask")
    FUNCTION = "run"
    CATEGORY = "bench/{group}"

    def run(self, image, strength, model, mask=None):
        tensor = torch.as_tensor(image) * strength
        return (tensor, mask)

"""
_HELPER = '''
def helper_{i}_{j}(values, scale={j}):
    """Vendored research code: loops, comprehensions and string formatting."""
    total = 0.0
    for index, value in enumerate(values):
        if index % 3 == 0:
            total += value * scale
        elif index % 3 == 1:
            total -= value / (scale + 1)
        else:
            total = max(total, float(value))
    names = [f"item_{{k}}" for k in range(len(values))]
    table = {{name: value for name, value in zip(names, values)}}
    return total, table
'''
_JS = """import {{ app }} from "../../scripts/app.js";
import {{ api }} from "../../scripts/api.js";

app.registerExtension({{
  name: "bench.ext{i}",
  async setup() {{
    const res = await api.fetchApi("/bench/{i}/status");
    const body = await res.json();
    const size = Number(localStorage.getItem("bench.size.{i}") || 256);
    for (const [key, value] of Object.entries(body)) {{
      console.log(key, value, size);
    }}
  }},
}});
"""


def build_pack(path: Path, py_files: int, model_mb: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    sizes = {"python": 0, "javascript": 0, "binary": 0, "json": 0}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        names = []
        for i in range(py_files):
            group = f"group{i % 40}"
            body = _NODE.format(i=i, group=group) + "".join(_HELPER.format(i=i, j=j) for j in range(rng.randint(8, 16)))
            name = f"nodes/{group}/node_{i}.py"
            archive.writestr(name, body)
            names.append((f"Node{i}", f"nodes.{group}.node_{i}"))
            sizes["python"] += len(body)
        for number in range(40):
            archive.writestr(f"nodes/group{number}/__init__.py", "")
        archive.writestr("nodes/__init__.py", "")
        init = "".join(f"from .{mod.split('.', 1)[1]} import {cls}\n" for cls, mod in names[:500])
        init = init.replace("from .group", "from .nodes.group")
        init += "NODE_CLASS_MAPPINGS = {\n" + "".join(f'    "{cls}": {cls},\n' for cls, _ in names[:500]) + "}\n"
        archive.writestr("__init__.py", init)
        sizes["python"] += len(init)
        for i in range(200):
            text = _JS.format(i=i) * 20
            archive.writestr(f"web/js/ext_{i}.js", text)
            sizes["javascript"] += len(text)
        bundle = ("!function(e){var t={};" + "t.f%d=function(a,b){return a+b*%d};" * 1 + "}(this);") * 1
        minified = "".join(bundle.replace("%d", str(i)) for i in range(60_000))
        archive.writestr("web/lib/bundle.min.js", minified)
        sizes["javascript"] += len(minified)
        for i in range(4):
            blob = rng.randbytes(model_mb * MB // 4)
            archive.writestr(f"models/part_{i}.safetensors", blob, compress_type=zipfile.ZIP_STORED)
            sizes["binary"] += len(blob)
        for i in range(50):
            workflow = '{"nodes": [' + ",".join(f'{{"id": {k}, "type": "Node{k}"}}' for k in range(2000)) + "]}"
            archive.writestr(f"example_workflows/wf_{i}.json", workflow)
            sizes["json"] += len(workflow)
        archive.writestr("requirements.txt", "torch\nnumpy\nrequests\nopencv-python\n")
    return sizes


def baseline(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as stream:
                while stream.read(64 * 1024):
                    pass


def parse_baseline(path: Path) -> None:
    """The floor for any AST-based scanner: read every member and parse every Python file once."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename.endswith(".py"):
                ast.parse(data)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


_HIGH_WATER = "\nfor line in open('/proc/self/status'):\n    if line.startswith('VmHWM'): print(line.split()[1])"


def child_peak_kib(code: str) -> int | None:
    """Peak resident memory of a fresh interpreter running `code` (Linux's VmHWM, which, unlike ru_maxrss,
    does not inherit this process's size through fork and exec); None where /proc is missing."""
    if not Path("/proc/self/status").exists():
        return None
    done = subprocess.run(
        [sys.executable, "-c", code + _HIGH_WATER],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return int(done.stdout.split()[-1])


def traced_peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--py-files", type=int, default=2000)
    parser.add_argument("--model-mb", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pack.zip"
        sizes = build_pack(path, args.py_files, args.model_mb)
        total = sum(sizes.values())
        archive_bytes = path.stat().st_size
        limits = ScanLimits()
        base_time, _ = timed(lambda: baseline(path), args.repeat)
        parse_time, _ = timed(lambda: parse_baseline(path), args.repeat)
        scan_time, report = timed(lambda: scan_archive(path, limits), args.repeat)
        idle = child_peak_kib("import functions.scanner")
        rss_base = child_peak_kib(f"from bench.scanner_bench import baseline; baseline({str(path)!r})")
        rss_scan = child_peak_kib(f"from functions.scanner import scan_archive; scan_archive({str(path)!r})")
        base_peak = traced_peak(lambda: baseline(path))
        scan_peak = traced_peak(lambda: scan_archive(path, limits))
        from_memory = io.BytesIO(path.read_bytes())
        memory_time, _ = timed(lambda: scan_archive(from_memory, limits), 1)
    print(f"pack: {report.stats.files} files, {total / MB:.1f} MB uncompressed, {archive_bytes / MB:.1f} MB archive")
    print("  " + ", ".join(f"{kind} {size / MB:.1f} MB" for kind, size in sizes.items()))
    print(f"verdict: {report.verdict}, {len(report.findings)} findings, extraction {report.extraction.status}, "
          f"{len(report.extraction.nodes)} nodes")  # fmt: skip
    print(f"baseline (zipfile read of every member): {base_time:.2f} s, {total / MB / base_time:.1f} MB/s")
    print(f"scan: {scan_time:.2f} s, {total / MB / scan_time:.1f} MB/s uncompressed, "
          f"{archive_bytes / MB / scan_time:.1f} MB/s of archive; from a file object: {memory_time:.2f} s")  # fmt: skip
    print(f"baseline 2 (read every member and ast.parse every .py): {parse_time:.2f} s")
    print(f"scan / baseline time: {scan_time / base_time:.1f}x; scan / baseline 2: {scan_time / parse_time:.2f}x")
    print(f"peak traced memory: baseline {base_peak / MB:.1f} MB, scan {scan_peak / MB:.1f} MB "
          f"({scan_peak / max(base_peak, 1):.1f}x)")  # fmt: skip
    if idle is not None and rss_base is not None and rss_scan is not None:
        print(f"peak RSS of a fresh process: imports only {idle / 1024:.0f} MB, baseline {rss_base / 1024:.0f} MB, "
              f"scan {rss_scan / 1024:.0f} MB")  # fmt: skip
    print(f"python source scanned: {sizes['python'] / MB / scan_time:.1f} MB/s of Python per second of scan")
    if os.environ.get("BENCH_VERBOSE"):
        for finding in report.findings[:20]:
            print("  ", finding.severity, finding.rule, finding.file, finding.line, finding.message)


if __name__ == "__main__":
    main()
