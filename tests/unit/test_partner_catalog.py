"""The partner catalog against the live spec: every `/proxy/*` operation of a seed partner is either served (a
catalog operation matches it) or refused on purpose (with the reason written in the catalog), and the catalog serves
nothing the spec (or, for Stability, proxy-catalog.md) does not name. Also the pieces a price depends on."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jwt
import pytest
import yaml

from functions.proxy.catalog import route
from functions.proxy.catalog.credentials import KLING_TOKEN_SECONDS, PartnerNotConfigured, kling_token, partner_headers
from functions.proxy.catalog.model import Role
from functions.proxy.catalog.partners import PARTNERS
from functions.proxy.catalog.prices import Fixed, PartnerCredits, PerSecond, PerUnit, Tokens, number, usd
from functions.proxy.catalog.statuses import Outcome, outcome
from shared.errors import NotFound

# The team folder beside the repository (../shared), as on every machine and CI run of this project.
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
SEED = sorted(set(PARTNERS) - {"stability"})  # Stability's paths are in proxy-catalog.md, not the newest spec
# Paths the newest spec lacks that a client still calls: `comfy generate resume` builds BFL's; ComfyUI's MiniMax node
# reads a file with GET where the spec has POST (proxy-catalog.md, 1.3).
EXTRA = {("GET", "/proxy/bfl/get_result"), ("GET", "/proxy/minimax/files/retrieve")}
STABILITY = [
    ("POST", "/v2beta/stable-image/generate/ultra"),
    ("POST", "/v2beta/stable-image/generate/sd3"),
    ("POST", "/v2beta/stable-image/upscale/conservative"),
    ("POST", "/v2beta/stable-image/upscale/creative"),
    ("POST", "/v2beta/stable-image/upscale/fast"),
    ("GET", "/v2beta/results/{id}"),
    ("POST", "/v2beta/audio/stable-audio-2/text-to-audio"),
    ("POST", "/v2beta/audio/stable-audio-2/audio-to-audio"),
    ("POST", "/v2beta/audio/stable-audio-2/inpaint"),
]


@cache
def spec_operations() -> list[tuple[str, str]]:
    spec = yaml.safe_load((REFERENCE / "live-api-openapi.yml").read_text())
    found = []
    for path, item in spec["paths"].items():
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "proxy" and parts[2] in SEED:
            found += [(method.upper(), path) for method in item if method in ("get", "post", "put", "patch", "delete")]
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "abc123", path)


def refused_reason(partner: str, method: str, rest: str) -> str | None:
    for refused in PARTNERS[partner].refused:
        if refused.method == method and refused.path == rest:
            return refused.reason
    return None


def test_every_seed_operation_of_the_live_spec_is_served_or_refused_with_a_reason() -> None:
    operations = spec_operations()
    assert len(operations) == 285  # all 48 partners of the live spec
    for method, path in operations:
        partner = path.split("/")[2]
        rest = path.removeprefix(f"/proxy/{partner}")
        reason = refused_reason(partner, method, rest)
        if reason:
            with pytest.raises(NotFound):
                route(partner, method, concrete(rest))
            continue
        _, op, _ = route(partner, method, concrete(rest))
        assert op.role in Role, (method, path)


def test_the_catalog_serves_nothing_the_spec_does_not_name() -> None:
    named = {(m, p) for m, p in spec_operations()} | EXTRA
    named |= {(m, f"/proxy/stability{p}") for m, p in STABILITY}
    for partner in PARTNERS.values():
        for op in partner.operations:
            if partner.name == "dummy":
                assert (op.method, "/proxy/dummy") in named
                continue
            assert (op.method, f"/proxy/{partner.name}{op.path}") in named or any(
                m == op.method and re.fullmatch(op.pattern, concrete(p.removeprefix(f"/proxy/{partner.name}")))
                for m, p in named
                if p.startswith(f"/proxy/{partner.name}/")
            ), f"{partner.name}: {op.name} is not in the spec"


def test_every_submit_names_how_it_is_polled_and_every_charged_call_a_price() -> None:
    for partner in PARTNERS.values():
        for op in partner.operations:
            if op.role is Role.SUBMIT:
                assert op.job_id and op.poll, f"{partner.name} {op.name}"
                poll_path = op.poll.split("?")[0].replace("{id}", "x")
                found = partner.match(op.poll_method, poll_path)
                assert op.poll_method == "GET" or op.poll_field, f"{partner.name} {op.name}: no id field"
                assert found and found[0].role is Role.POLL, f"{partner.name}: {op.poll} is no poll"
            if op.role in (Role.SYNC, Role.SUBMIT):
                assert op.price is not None, f"{partner.name} {op.name}"


def test_price_rules() -> None:
    assert usd("0.0715") == 71_500 and usd("1.5") == 1_500_000
    assert number("10", 5, most=60) == 10 and number("5s", 1, most=60) == 5 and number(None, 4, most=60) == 4
    assert number(True, 1, most=9) == 1 and number(10_000, 1, most=9) == 9 and number("x", 3, most=9) == 3
    assert PerUnit(usd("0.04"), count="n").estimate({"n": 3}) == 120_000
    by_speed = PerUnit(60_000, count="num_images", by="rendering_speed", table={"turbo": 30_000})
    assert by_speed.estimate({"num_images": 2, "rendering_speed": "TURBO"}) == 60_000
    assert PerUnit(80_000, count="image_request.num_images").estimate({"image_request": {"num_images": 4}}) == 320_000
    assert PerSecond(70_000).estimate({"duration": "10"}) == 700_000 and PerSecond(70_000).estimate({}) == 350_000
    tokens = Tokens(usd("0.5"), 10, 40)
    assert tokens.actual({"usage": {"input_tokens": 5, "output_tokens": 7}}, {}, 0) == 5 * 10 + 7 * 40
    assert tokens.actual({"usage": {}}, {}, 0) is None and tokens.actual(None, {}, 0) is None
    credits = PartnerCredits(Fixed(40_000), "cost", 10_000)
    assert credits.estimate({}) == 60_000  # the list price plus half, to cover a larger image
    assert credits.actual({"cost": 4.5}, {}, 0) == 45_000 and credits.actual({"cost": "NaN"}, {}, 0) is None
    assert credits.actual({"cost": True}, {}, 0) is None and credits.actual({}, {}, 0) is None


def test_status_words() -> None:
    _, poll, _ = route("kling", "GET", "/v1/videos/text2video/x")
    assert outcome(poll, 200, {"data": {"task_status": "succeed"}}) is Outcome.DONE
    assert outcome(poll, 200, {"data": {"task_status": " FAILED "}}) is Outcome.FAILED
    assert outcome(poll, 200, {"data": {"task_status": "processing"}}) is Outcome.RUNNING
    assert outcome(poll, 500, {"data": {"task_status": "failed"}}) is Outcome.RUNNING  # an error is no verdict
    _, pixverse, _ = route("pixverse", "GET", "/video/result/7")
    assert [outcome(pixverse, 200, {"Resp": {"status": s}}) for s in (5, 1, 7)] == [
        Outcome.RUNNING,
        Outcome.DONE,
        Outcome.FAILED,
    ]
    _, stability, _ = route("stability", "GET", "/v2beta/results/x")
    assert outcome(stability, 202, {"status": "in-progress"}) is Outcome.RUNNING
    assert outcome(stability, 200, None) is Outcome.DONE  # the image itself
    _, bfl, _ = route("bfl", "GET", "/v1/get_result")
    assert outcome(bfl, 200, {"status": "Content Moderated"}) is Outcome.FAILED


def test_partner_credentials_go_in_the_partners_way() -> None:
    assert partner_headers(PARTNERS["bfl"], "k") == {"x-key": "k"}
    runway = partner_headers(PARTNERS["runway"], "k")
    assert runway == {"Authorization": "Bearer k", "X-Runway-Version": "2024-11-06"}
    first, second = (partner_headers(PARTNERS["pixverse"], "k")["Ai-trace-id"] for _ in range(2))
    assert first != second  # a fresh trace id per call
    token = kling_token("access:" + "s" * 32, now=1_000_000)
    claims = jwt.decode(token, "s" * 32, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False})
    assert claims == {"iss": "access", "exp": 1_000_000 + KLING_TOKEN_SECONDS, "nbf": 1_000_000 - 5}
    with pytest.raises(PartnerNotConfigured):
        kling_token("no-secret")
