"""One gateway call, end to end: routed by the catalog (404 route_not_found for anything it does not list, before
any partner is reached), then a charged call (`charged`) or a free read (`reads`). Answers are the partner's, with
our request id and the credits used."""

from __future__ import annotations

from dataclasses import replace

from functions.proxy import catalog
from functions.proxy.catalog.credentials import credential_of
from functions.proxy.catalog.model import PATH_VALUES, Auth, Role
from functions.proxy.gateway.usecases import charged, reads
from functions.proxy.gateway.usecases.answers import Answer
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.gateway.usecases.exchange import Exchange
from functions.proxy.gateway.usecases.upstream import outbound
from shared.billing.callers import Caller


def forward(gw: Gateway, caller: Caller, call: Call) -> Answer:
    partner, op, values = catalog.route(call.partner, call.method, call.path)
    if values:  # what a price rule may read of our path (Veo's model), never what the caller's body says it is
        call = replace(call, fields={**call.fields, PATH_VALUES: values})
    x = Exchange(gw, caller, call, partner, op)
    if partner.auth is Auth.NONE:
        return reads.answered_here(x)
    credential = credential_of(partner, gw.credentials)
    if op.role in (Role.SYNC, Role.SUBMIT):
        return charged.charged(x, outbound(gw, partner, op, call, credential))
    if op.role in (Role.POLL, Role.FETCH):
        return reads.polled(x, values, credential)
    return reads.free(x, credential)
