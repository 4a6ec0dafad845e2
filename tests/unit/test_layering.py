"""The layering contracts (pyproject.toml, [tool.importlinter]) catch a forbidden import: the check is run on a copy
of the code with one such import added. (`make lint` runs it on the code itself.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    binary = LINT if LINT.exists() else Path(shutil.which("lint-imports") or "lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(binary), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("shared", "functions", "local", "tools", "bench"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("functions/registry/reads/usecases.py", "import flask", "use cases know no Flask"),
        ("functions/registry/publishing/usecases/nodes.py", "import sqlalchemy", "use cases know no Flask"),
        ("shared/releases.py", "import functions.scanner.release", "shared/ is the library"),
        ("functions/scanner/release.py", "import functions.registry.common.access", "never imports another function"),
        ("functions/registry/moderation/usecases.py", "import functions.registry.reads.usecases", "area never imports"),
        ("functions/registry/ci/usecases.py", "import functions.registry.ci.handlers", "within an area"),
        ("shared/releases.py", "import google.cloud.storage", "vendor SDKs only inside adapters"),
    ],
)
def test_a_forbidden_import_breaks_the_check(tree: Path, module: str, line: str, contract: str) -> None:
    target = tree / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert contract in " ".join(result.stdout.split()), result.stdout[-3000:]
