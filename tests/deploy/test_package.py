"""`make package`'s folders are deployable on their own: each installs into a clean virtual environment from
its own requirements.txt and loads its entry points the way Cloud Functions does, with no other function's code
or dependencies present."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.support import ROOT
from tools import package

FOLDERS = sorted(package.folders())

# Loads each entry point as the functions-framework server does in the cloud: main.py at the source root.
LOAD = """
import pathlib, sys, time
started = time.perf_counter()
from functions_framework import create_app
for target in sys.argv[1:]:
    create_app(target, "main.py")
import importlib, pkgutil
import functions
# Entry points load most of their code on the first call; import all of it now, with only this package's deps.
for info in pkgutil.walk_packages(functions.__path__, "functions."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
where = pathlib.Path(functions.__path__[0])
assert where.parent == pathlib.Path.cwd(), f"functions/ came from {where}, not from the package"
folders = sorted(p.name for p in where.iterdir() if p.is_dir() and p.name != "__pycache__")
print(f"loaded {', '.join(sys.argv[1:])} in {time.perf_counter() - started:.2f}s; functions/ holds {folders}")
"""


class Packages:
    """Each folder's package, built on first use (a folder that cannot be packaged fails only its own tests)."""

    def __init__(self, out: Path) -> None:
        self._out = out
        self._built: dict[str, Path] = {}

    def __getitem__(self, folder: str) -> Path:
        if folder not in self._built:
            self._built[folder] = package.build(folder, package.folders()[folder], self._out)
        return self._built[folder]


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return Packages(tmp_path_factory.mktemp("build"))


@pytest.mark.parametrize("folder", FOLDERS)
def test_package_holds_only_its_folder_and_shared(packages: Packages, folder: str) -> None:
    root = packages[folder]
    assert sorted(p.name for p in root.iterdir()) == ["functions", "main.py", "requirements.txt", "shared"]
    assert sorted(p.name for p in (root / "functions").iterdir()) == ["__init__.py", folder]
    assert (root / "requirements.txt").read_text() == (ROOT / "functions" / folder / "requirements.txt").read_text()
    assert not list(root.rglob("__pycache__"))
    main = (root / "main.py").read_text()
    for fn in package.folders()[folder]:
        assert fn.entry_point in main


def test_make_package_writes_build(tmp_path: Path) -> None:
    assert package.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == FOLDERS
    assert package.main(["--out", str(tmp_path), "no-such-function"]) == 2


def test_a_folder_without_its_requirements_is_not_packaged(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "functions" / "lonely").mkdir(parents=True)
    (root / "shared").mkdir()
    (root / "functions" / "__init__.py").write_text("")
    with pytest.raises(FileNotFoundError, match=r"functions/lonely/requirements\.txt"):
        package.build("lonely", [], tmp_path / "out", root=root)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("folder", FOLDERS)
def test_package_installs_and_loads_in_a_clean_venv(
    packages: Packages, folder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = packages[folder]
    venv = tmp_path / "venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    # pip keeps the machine's index settings (PIP_*); nothing of this checkout is on the path.
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=root,
        env=pip_env,
        capture_output=True,
        text=True,
        timeout=780,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    installed = time.perf_counter()
    # The environment Cloud Functions gives (terraform/functions.tf), minus the secrets; nothing from the tests.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "APP_ENV": "production",
        "BLOB_BACKEND": "gcs",
        "EVENTS_BACKEND": "pubsub",
        "UPLOADS_BUCKET": "deploy-test-uploads",
        "GOOGLE_CLOUD_PROJECT": "deploy-test",
        "FIREBASE_PROJECT_ID": "deploy-test",
    }
    entry_points = [fn.entry_point for fn in package.folders()[folder]]
    loaded = subprocess.run(
        [python, "-I", "-c", LOAD, *entry_points],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-4000:]
    assert f"functions/ holds ['{folder}']" in loaded.stdout
    with capsys.disabled():
        print(
            f"\n[deploy] build/{folder}: venv and pip install {installed - started:.1f}s, "
            f"{loaded.stdout.strip()} (total {time.perf_counter() - started:.1f}s)"
        )
