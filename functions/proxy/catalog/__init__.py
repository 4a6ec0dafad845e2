"""The partner catalog, as data: `partners` (one entry per partner), on the shapes of `model`, priced by `prices`,
with the status words of `statuses` and the upstream credentials of `credentials`."""

from __future__ import annotations

from functions.proxy.catalog.model import Operation, Partner
from functions.proxy.catalog.partners import PARTNERS
from shared.errors import MethodNotAllowed, NotFound


def route(partner_name: str, method: str, path: str) -> tuple[Partner, Operation, dict[str, str]]:
    """The partner and operation serving `method path`; 404 route_not_found for anything the catalog does not list
    (a refused path included), before anything reaches a partner."""
    partner = PARTNERS.get(partner_name)
    found = partner.match(method, path) if partner else None
    refused = next((r for r in partner.refused if (r.method, r.path) == (method, path)), None) if partner else None
    if refused is not None:
        message = f"{method} /proxy/{partner_name}{path} is not served: it {refused.reason}."
        raise NotFound(message, code="route_not_found")
    if partner is not None and found is None:
        allowed = [m for m in ("GET", "POST", "PATCH") if m != method and partner.match(m, path)]
        if allowed:
            raise MethodNotAllowed(f"Use one of: {', '.join(allowed)}", allowed=allowed)
    if partner is None or found is None:
        raise NotFound(f"No partner route for {method} /proxy/{partner_name}{path}.", code="route_not_found")
    return partner, *found


def operation(partner: Partner, name: str) -> Operation | None:
    return next((op for op in partner.operations if op.name == name), None)
