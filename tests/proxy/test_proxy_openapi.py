"""The gateway's OpenAPI document (functions/proxy/openapi.yaml, served at /proxy/openapi): valid, routed to the
proxy function, every partner operation it shows served by the catalog, and served as written. The answers are
checked against it in every gateway test (tests/contract.py) and by the schema fuzzing (tests/fuzz)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from functions.proxy import catalog, meta
from shared import routing
from tests.proxy.support import ProxyClient

METHODS = ("get", "post", "patch")


def test_the_document_is_valid_and_each_operation_is_the_gateways() -> None:
    spec = meta.spec()
    validate(spec)
    for path, item in spec["paths"].items():
        assert routing.function_for(path) == "proxy", path
        for method in (m for m in METHODS if m in item):
            op = item[method]
            if op["operationId"] in (
                "proxyHealth",
                "getProxyOpenapi",
                "getProxyDocs",
                "getProxyDocsAsset",
            ) or not path.startswith("/proxy/"):
                continue  # the Router's and the limits' own routes: checked served below
            assert {"BearerAuth": []} in op["security"] and {"ApiKeyAuth": []} in op["security"], path
            assert {"401", "429", "503"} <= set(op["responses"]), path
            partner, _, rest = path.removeprefix("/proxy/").partition("/")
            concrete = re.sub(r"\{[^}]+\}", "x", f"/{rest}" if rest else "")
            assert catalog.route(partner, method.upper(), concrete), path


def test_the_document_and_the_liveness_are_served(proxy: ProxyClient) -> None:
    assert proxy.get("/proxy/health").get_data(as_text=True) == "OK"
    served = proxy.get("/proxy/openapi")
    assert served.status_code == 200 and served.get_json()["info"]["title"] == "ComfyUI partner gateway"
    wrong = proxy.post("/proxy/health", json_body={})
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET"
    key = proxy.customer("doc", 1_000_000)
    refused = proxy.with_key("GET", "/proxy/recraft/image_generation", key)
    assert refused.status_code == 405 and refused.headers["Allow"] == "POST"


def test_every_router_and_limits_operation_of_the_document_is_routed() -> None:
    from functions.proxy.app import model_router, router

    for path, item in meta.spec()["paths"].items():
        if path.startswith("/proxy/"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        serving = model_router() if path.startswith("/v2") else router()
        for method in (m for m in ("get", "put", "post", "delete") if m in item):
            assert serving.matches(method.upper(), concrete), (method, path)
