"""One routing table for the local server and the load balancer."""

from __future__ import annotations

from pathlib import Path

from shared import routing

ROOT = Path(__file__).resolve().parents[2]


def test_terraform_url_map_is_rendered_from_the_table() -> None:
    committed = (ROOT / "terraform" / "url_map.auto.tfvars.json").read_text()
    assert committed == routing.render(), "run: .venv/bin/python -m shared.routing > terraform/url_map.auto.tfvars.json"


def test_every_http_function_has_its_entry_point() -> None:
    for fn in routing.HTTP_FUNCTIONS:
        source = (ROOT / fn.source / "main.py").read_text()
        assert f"def {fn.entry_point}(" in source


def test_default_function_takes_unclaimed_paths() -> None:
    assert routing.function_for("/nodes/x/install") == "registry"
    assert routing.function_for("/") == routing.DEFAULT
