"""Every `/proxy/*` operation of the live spec, walked through the gateway against the recording fake partners: each
is either forwarded (it reaches the partner with the partner's credential, which the fake checks the partner's way,
and without the caller's key) or refused on purpose (404 `route_not_found` with the catalog's reason, and nothing
reaches the partner). Polls and reads of results are walked on a job the caller owns; the `dummy` partner is
answered by the gateway itself. No operation is unanswered, and none is answered by accident."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml

from functions.proxy import catalog
from functions.proxy.catalog.model import Auth, Role
from functions.proxy.catalog.partners import PARTNERS
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from tests.proxy.support import ProxyClient

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
JOB = "abc123"
OPEN = {
    "PROXY_MAX_IN_FLIGHT": 100_000,
    "PROXY_CALLS_PER_MINUTE": 100_000,
    "PROXY_LIMIT_LADDER": [[0, 10_000, 10**9]],
    "PROXY_POLL_RETRIES": 0,
}


@cache
def spec_operations() -> list[tuple[str, str, str]]:
    """(partner, method, path after /proxy/<partner>) for every operation the live spec lists under /proxy."""
    spec = yaml.safe_load((REFERENCE / "live-api-openapi.yml").read_text())
    found = []
    for path, item in spec["paths"].items():
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "proxy":
            rest = path.removeprefix(f"/proxy/{parts[2]}")
            found += [(parts[2], m.upper(), rest) for m in item if m in ("get", "post", "put", "patch", "delete")]
    return found


def test_every_partner_of_the_live_spec_is_in_the_catalog() -> None:
    partners = {partner for partner, _, _ in spec_operations()}
    assert len(partners) == 48 and len(spec_operations()) == 285  # on 279 paths
    assert partners <= set(PARTNERS), sorted(partners - set(PARTNERS))


def own_job(proxy: ProxyClient, uid: str, partner: str) -> None:
    """A pending job of `partner` (whose jobs a poll reads) named JOB, owned by `uid`, with a real hold (as a submit
    would leave it)."""
    with proxy.container.proxy_uow() as u:
        if u.jobs.find(partner, JOB) is not None:
            return
        hold = u.ledger.place_hold(f"walk:{partner}", uid, 1000, f"{partner} walk")
        now = utcnow()
        absolute = PARTNERS[partner].absolute_polling
        u.jobs.add(
            ProxyJob(
                customer_id=uid,
                partner=partner,
                partner_job_id=JOB,
                operation="walk",
                hold_id=hold.id,
                price=1000,
                poll_url=f"{proxy.fakes.base}/{partner}/v1/get_result?id={JOB}" if absolute else None,
                request_id="walk",
                status="pending",
                checks=0,
                details={},
                created_at=now,
                expires_at=now + timedelta(days=1),
                next_check_at=now + timedelta(days=1),
            )
        )
        u.commit()


def request_for(op_job_id: str, role: Role, concrete: str) -> tuple[str, object]:
    """The query and JSON body that name JOB the way the operation reads a job id."""
    where, _, name = op_job_id.partition(":")
    if role in (Role.POLL, Role.FETCH) and where == "query":
        return f"?{name}={JOB}", None
    if role in (Role.POLL, Role.FETCH) and where == "body":
        return "", {name: JOB}
    return "", {"prompt": "walk"} if role in (Role.SYNC, Role.SUBMIT) else {}


@pytest.mark.parametrize("proxy", [OPEN], indirect=True)
def test_every_operation_is_forwarded_with_our_credential_or_refused(proxy: ProxyClient) -> None:
    key = proxy.customer("walker", 10_000 * 1_000_000)
    served = refused = 0
    for partner, method, rest in spec_operations():
        concrete = re.sub(r"\{[^}]+\}", JOB, rest)
        where = f"{method} /proxy/{partner}{rest}"
        before = len(proxy.fakes.received(partner))
        reason = next((r.reason for r in PARTNERS[partner].refused if (r.method, r.path) == (method, rest)), None)
        if reason is not None:
            answer = proxy.with_key(method, f"/proxy/{partner}{concrete}", key, json_body={})
            assert answer.status_code == 404 and answer.get_json()["error"] == "route_not_found", where
            assert reason in answer.get_json()["message"], where
            assert len(proxy.fakes.received(partner)) == before, where
            refused += 1
            continue
        p, op, _ = catalog.route(partner, method, concrete)
        if p.auth is Auth.NONE:
            assert proxy.with_key(method, f"/proxy/{partner}{concrete}", key, json_body={}).status_code == 200
            served += 1
            continue
        if op.role in (Role.POLL, Role.FETCH):
            own_job(proxy, "walker", p.jobs_of or partner)
        query, body = request_for(op.job_id, op.role, concrete)
        answer = proxy.with_key(method, f"/proxy/{partner}{concrete}{query}", key, json_body=body)
        if answer.is_streamed:
            answer.get_data()
        arrived = proxy.fakes.received(partner)[before:]
        assert arrived, f"{where}: never reached the partner ({answer.status_code} {answer.get_data()[:200]!r})"
        assert answer.status_code != 401, f"{where}: the partner refused our credential"
        for received in arrived:
            assert key not in json.dumps(received.headers) and key.encode() not in received.body, where
        served += 1
    assert served + refused == len(spec_operations())
    assert refused >= 1
    proxy.assert_balanced()
