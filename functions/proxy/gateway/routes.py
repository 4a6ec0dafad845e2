"""Every method under /proxy/<partner>/...: the catalog decides what is served (anything else 404 route_not_found)."""

from __future__ import annotations

from functions.proxy.gateway import handlers
from shared.http.router import Route

METHODS = ("GET", "POST", "PATCH")  # every method the catalog serves; others are 405 from the router

ROUTES = [
    *(Route(m, "/proxy/<partner>/<path:rest>", handlers.call, f"Proxy{m.title()}") for m in METHODS),
    *(Route(m, "/proxy/<partner>", handlers.call, f"ProxyRoot{m.title()}") for m in METHODS),
]
