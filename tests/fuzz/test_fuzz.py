"""Schema-driven fuzzing of the whole registry API with schemathesis, in-process against the WSGI app, on a seeded
SQLite and a seeded PostgreSQL database (PostgreSQL refuses what SQLite stores: NUL characters, over-long keys).

Every operation of our OpenAPI document gets the examples, coverage and fuzzing phases (a bounded number of
generated cases), with valid credentials of the kind it declares, and the secured ones once more anonymously (with
whatever garbage the generator puts in the security headers). Each answer must be no 5xx, a documented status with
a body that fits the document strictly (tests/contract.py), and come back within REQUEST_TIMEOUT seconds.

The run is repeatable (a fixed seed). A deeper one, by hand:
    FUZZ_MAX_EXAMPLES=300 FUZZ_SEED=7 FUZZ_DATABASES=postgresql .venv/bin/python -m pytest tests/fuzz -o timeout=0"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, CheckContext
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from shared.auth import emulator
from tests.contract import load_spec, validate_response
from tests.fuzz import seed
from tests.fuzz.conftest import FuzzStack
from tests.support import gateway

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))  # per operation, in the fuzzing phase
SEED = int(os.environ.get("FUZZ_SEED", "20240607"))
REQUEST_TIMEOUT = 10.0  # seconds for one call; a hang fails the case instead of the whole run
OPERATION_TIMEOUT = 90  # seconds for every case of one operation (pytest-timeout)

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "suppress-health-check": ["all"],
    }
)


# Every registry function behind the load balancer's routing, as the fuzzer is one client of them all.
APP = gateway()
schema = schemathesis.openapi.from_dict(load_spec(), config=CONFIG)
schema.app = APP

_stack: dict[str, FuzzStack] = {}


@pytest.fixture(scope="module")
def seeded(fuzz_stack: FuzzStack) -> FuzzStack:
    """The seeded stack, also where the generation hooks below (which get no fixtures) can see it."""
    _stack["current"] = fuzz_stack
    return fuzz_stack


# -- steering generation towards rows that exist --------------------------------------------------------------
def _known(name: str) -> list[str]:
    stack = _stack.get("current")
    return stack.known.values.get(name, []) if stack else []


def _with_known(params: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {k: st.sampled_from(_known(k)) if _known(k) else st.just(v) for k, v in params.items()}
    )


@schema.hook
def before_generate_path_parameters(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # Half the cases name seeded rows; the rest keep whatever the generator made up.
    return st.one_of(strategy, strategy.flatmap(lambda p: _with_known(p) if isinstance(p, dict) else st.just(p)))


def _with_token(body: Any) -> Any:
    stack = _stack.get("current")
    if isinstance(body, dict) and "personal_access_token" in body and stack:
        return {**body, "personal_access_token": stack.known.token}
    return body


@schema.hook
def before_generate_body(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy.map(_with_token))


# -- credentials ----------------------------------------------------------------------------------------------
def _credentials(case: Case[Any]) -> dict[str, str]:
    stack = _stack["current"]
    schemes = {name for requirement in case.operation.definition.raw.get("security") or [] for name in requirement}
    if "GoogleOidc" in schemes:
        return stack.service.headers()
    if "CiKey" in schemes:
        return {"X-CI-Key": seed.CI_KEY}
    if "ComfyAdminSecretAuth" in schemes:
        return {"X-Comfy-Admin-Secret": seed.ADMIN_SECRET}
    if "BearerAuth" in schemes:
        project = stack.api.container.settings.firebase_project_id
        token = emulator.mint(project, seed.OWNER, email="owner@example.com", name="Owner", admin=True)
        return {"Authorization": f"Bearer {token}"}
    return {}


# -- checks ---------------------------------------------------------------------------------------------------
def strict_contract(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The status and body against our document as the normal suite checks them: undocumented fields fail.
    A method the path does not declare (the coverage phase tries them) is `unsupported_method`'s business."""
    if case.method.upper() != case.operation.method.upper():
        return None
    content_type = (response.headers.get("content-type") or [""])[0] if response.content else None
    validate_response(case.method, case.path, response.status_code, response.content, content_type=content_type)
    return None


CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    strict_contract,
]


def call(case: Case[Any], headers: dict[str, str], timeout: float = REQUEST_TIMEOUT) -> Response:
    """Send the case from a daemon thread and give up after `timeout`: a request that hangs fails its case (and
    cannot keep the test process alive) instead of stalling the run."""
    outcome: list[Response | BaseException] = []

    def send() -> None:
        try:
            outcome.append(case.call(headers=headers))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread below
            outcome.append(exc)

    worker = threading.Thread(target=send, name="fuzz-call", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        pytest.fail(f"{case.method} {case.formatted_path} did not answer within {timeout} s", pytrace=False)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def run(case: Case[Any], headers: dict[str, str]) -> None:
    response = call(case, headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.timeout(OPERATION_TIMEOUT)
@schema.parametrize()
@hypothesis.settings(deadline=None)
def test_with_credentials(case: Case[Any], seeded: FuzzStack) -> None:
    run(case, _credentials(case))


# Operations that declare no security get the same requests either way: the credentialed run covers them.
secured = schema.include(func=lambda ctx: bool(ctx.operation.definition.raw.get("security")))


@pytest.mark.timeout(OPERATION_TIMEOUT)
@secured.parametrize()
@hypothesis.settings(deadline=None)
def test_anonymous(case: Case[Any], seeded: FuzzStack) -> None:
    run(case, {})


class _Stuck:
    method, formatted_path = "GET", "/stuck"

    def call(self, **_: Any) -> None:
        time.sleep(5)


def test_a_request_that_hangs_fails_its_case_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match=r"did not answer within 0\.2 s"):
        call(_Stuck(), {}, timeout=0.2)  # type: ignore[arg-type]
    assert time.monotonic() - started < 2
