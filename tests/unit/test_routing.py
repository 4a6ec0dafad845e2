"""One routing table for the local server and the load balancer."""

from __future__ import annotations

from pathlib import Path

from shared import routing

ROOT = Path(__file__).resolve().parents[2]


def test_terraform_url_map_is_rendered_from_the_table() -> None:
    committed = (ROOT / "terraform" / "url_map.auto.tfvars.json").read_text()
    assert committed == routing.render(), "run: .venv/bin/python -m tools.render"


def test_every_http_function_has_its_entry_point() -> None:
    for fn in routing.HTTP_FUNCTIONS:
        source = (ROOT / fn.source / "main.py").read_text()
        assert f"def {fn.entry_point}(" in source


def test_default_function_takes_unclaimed_paths() -> None:
    assert routing.function_for("/nodes/x/install") == "registry"
    assert routing.function_for("/") == routing.DEFAULT


def test_every_route_of_an_area_reaches_the_function_that_serves_it() -> None:
    """What shared/routing.py sends to a function is what that function's area routes: no path of an area is
    unreachable behind the load balancer, and none lands in an area that does not serve it."""
    import ast
    import re

    from functions.registry.app import AREAS, routes

    # Read from the source: importing main.py registers handlers on functions-framework's app, which other tests of
    # this process may already have served from.
    main = ast.parse((ROOT / routing.REGISTRY / "main.py").read_text())
    assigned = next(n for n in main.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "ENTRY_POINTS")
    ENTRY_POINTS = ast.literal_eval(assigned.value)

    entry_points = {fn.name: fn.entry_point for fn in routing.HTTP_FUNCTIONS if fn.source == routing.REGISTRY}
    assert sorted(AREAS.values()) == sorted(entry_points)
    for area, function in AREAS.items():
        assert ENTRY_POINTS[entry_points[function]] == area
        for route in routes(area):
            path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "some-value", route.path)
            assert routing.function_for(path) == function, (area, route.method, route.path)


def test_every_billing_route_reaches_the_billing_function() -> None:
    """Every path billing serves (whichever area adds it) is sent to the `billing` function, and billing's templates
    take no registry route (the test above would fail: billing's templates are matched first)."""
    import re

    from functions.billing.app import all_routes

    (billing,) = [fn for fn in routing.HTTP_FUNCTIONS if fn.source == "functions/billing"]
    routes = all_routes()
    assert routes
    for route in routes:
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "some-value", route.path)
        assert routing.function_for(path) == billing.name, (route.method, route.path)
