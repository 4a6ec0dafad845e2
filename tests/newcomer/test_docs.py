"""The interactive API reference (Swagger UI from a package's files, nothing from a CDN) of the registry, billing and
the gateway, and `/openapi` naming the server it was asked at."""

from __future__ import annotations

import re

import pytest

from tests.support import RegistryClient

REFERENCES = [("/docs", "/openapi"), ("/billing/docs", "/billing/openapi"), ("/proxy/docs", "/proxy/openapi")]


@pytest.mark.parametrize(("page", "spec"), REFERENCES)
def test_the_reference_page_and_every_file_it_loads_are_served(api: RegistryClient, page: str, spec: str) -> None:
    r = api.client.get(page)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert f'data-spec="{spec}"' in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "nothing may come from another host"
    files = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {f.rsplit("/", 1)[1] for f in files} >= {"swagger-ui.css", "swagger-ui-bundle.js", "start.js"}
    for path in files:
        asset = api.client.get(path)
        assert asset.status_code == 200, path
        assert asset.content_length and asset.content_length > 0
        assert "public" in asset.headers["Cache-Control"]
    bundle = api.client.get(f"{page}/swagger-ui-bundle.js")
    assert bundle.mimetype == "text/javascript" and b"SwaggerUIBundle" in bundle.get_data()
    assert api.client.get(f"{page}/swagger-ui.css").mimetype == "text/css"
    assert api.client.get(spec).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/billing/docs", "/proxy/docs"])
def test_a_file_the_reference_does_not_have_is_a_json_404(api: RegistryClient, page: str) -> None:
    for name in ("../main.py", "index.j2", "LICENSE", "..%2Fsettings.py"):
        r = api.client.get(f"{page}/{name}")
        assert r.status_code >= 400 and r.is_json, name  # 404, or the gateway's 401 for a path outside /docs


@pytest.mark.parametrize("spec", ["/openapi", "/billing/openapi", "/proxy/openapi"])
def test_openapi_names_the_server_it_was_asked_at(api: RegistryClient, spec: str) -> None:
    settings = api.container.settings.model_copy(update={"public_base_url": None, "port": 8080})
    api.use(settings=settings)
    served = api.client.get(spec, base_url="http://127.0.0.1:9000").get_json()
    assert served["servers"] == [{"url": "http://127.0.0.1:9000", "description": "this server"}]
    behind = api.client.get(
        spec, base_url="http://registry.example.com", headers={"X-Forwarded-Proto": "https"}
    ).get_json()
    assert behind["servers"][0]["url"] == "https://registry.example.com"
    odd = api.client.get(spec, headers={"Host": "evil.example/<script>"}).get_json()
    assert odd["servers"][0]["url"] == "http://127.0.0.1:8080"


def test_openapi_names_the_public_base_url_when_configured(api: RegistryClient) -> None:
    settings = api.container.settings.model_copy(update={"public_base_url": "https://api.example.org/"})
    api.use(settings=settings)
    served = api.client.get("/openapi", base_url="http://10.0.0.1:8080").get_json()
    assert served["servers"][0]["url"] == "https://api.example.org"
