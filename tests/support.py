"""A thin client over the function's test client, with the steps most tests take."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.test import Client, TestResponse

from shared.auth import emulator
from shared.bootstrap import Container
from shared.db.models import NodeVersion
from tests.contract import validate_test_response


def find_route(method: str, path: str) -> bool:
    """Whether some area of the registry answers `method path` (so the answer must match our OpenAPI document)."""
    from functions.billing.app import router as billing
    from functions.registry.app import AREAS, router

    return any(router(area).matches(method, path) for area in AREAS) or billing().matches(method, path)


class Gateway:
    """The load balancer in front of the registry's functions: each request goes to the function that
    shared/routing.py names for its path, as the URL map rendered from it does in the cloud."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        from shared import routing
        from tests.roles import serving

        function = routing.function_for(environ.get("PATH_INFO", ""))
        streamed: list[bool] = []

        def starting(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            streamed.append(any(name.lower() == "x-accel-buffering" for name, _ in headers))
            return start_response(status, headers, *rest)

        with serving(function):  # as its own database role, where a test binds roles (tests/roles.py)
            body = self.apps[function](environ, starting)
            if streamed and streamed[0]:  # the gateway's streamed answers reach the client piece by piece
                return self._pieces(function, body)
            try:
                return list(body)  # read within the block: the body may still use the container
            finally:
                if hasattr(body, "close"):
                    body.close()

    @staticmethod
    def _pieces(function: str, body: Any) -> Iterator[bytes]:
        from tests.roles import serving

        try:
            for piece in body:
                with serving(function):
                    pass
                yield piece
        finally:
            with serving(function):
                if hasattr(body, "close"):
                    body.close()

    def test_client(self) -> Client:
        return Client(self)


def gateway() -> Gateway:
    """Every registry function as functions-framework builds it, behind one Gateway."""
    import functions_framework

    from shared import routing

    root = Path(__file__).resolve().parent.parent
    return Gateway(
        {
            fn.name: functions_framework.create_app(fn.entry_point, str(root / fn.source / "main.py"), "http")
            for fn in routing.HTTP_FUNCTIONS
        }
    )


def version_row(api: RegistryClient, node_id: str, version: str = "1.0.0") -> NodeVersion:
    """The stored row of a node's version, as the database's owner reads it."""
    from sqlalchemy import select

    with api.container.sessions() as s:
        row = s.scalar(select(NodeVersion).where(NodeVersion.node_id == node_id, NodeVersion.version == version))
        assert row is not None, (node_id, version)
        return row


@contextmanager
def client_of(c: Container, app: Gateway) -> Iterator[RegistryClient]:
    """The registry functions served with `c` as the process's container, and a client for them; the container is
    uninstalled and its database connections closed afterwards."""
    from shared.bootstrap import set_container

    set_container(c)
    try:
        yield RegistryClient(app.test_client(), c)
    finally:
        set_container(None)
        c.engine.dispose()


def zip_bytes(files: dict[str, str]) -> bytes:
    """The same files always make the same bytes (a fixed timestamp), so a test can compare what is served."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buf.getvalue()


def clean_pack(node_id: str, version: str) -> bytes:
    nodes = (
        "class Hello:\n    CATEGORY = 'example'\n    RETURN_TYPES = ('STRING',)\n    FUNCTION = 'run'\n\n"
        "    @classmethod\n    def INPUT_TYPES(cls):\n        return {'required': {'text': ('STRING', {})}}\n\n"
        "    def run(self, text):\n        return (text,)\n\n\nNODE_CLASS_MAPPINGS = {'Hello': Hello}\n"
    )
    return zip_bytes(
        {
            "pyproject.toml": f'[project]\nname = "{node_id}"\nversion = "{version}"\n',
            "__init__.py": "from .nodes import NODE_CLASS_MAPPINGS\n",
            "nodes.py": nodes,
        }
    )


class RegistryClient:
    def __init__(self, client: Any, container: Container) -> None:
        self.client = client
        self.container = container

    def use(self, **ports: Any) -> Container:
        """From now on the functions see a container like this one but with these ports (fakes, wrappers)."""
        from dataclasses import replace

        from shared.bootstrap import set_container

        self.container = replace(self.container, **ports)
        set_container(self.container)
        return self.container

    # -- raw calls --------------------------------------------------------------------------------
    def token(self, uid: str, *, admin: bool = False) -> str:
        return emulator.mint(
            self.container.settings.firebase_project_id, uid, email=f"{uid}@example.com", name=uid.title(), admin=admin
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        admin: bool = False,
        json_body: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | list[tuple[str, Any]] | None = None,
    ) -> TestResponse:
        all_headers = dict(headers or {})
        if as_ is not None:
            all_headers["Authorization"] = f"Bearer {self.token(as_, admin=admin)}"
        kwargs: dict[str, Any] = {"headers": all_headers, "query_string": query}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body)
            kwargs["content_type"] = "application/json"
        elif data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = "application/json"
        response: TestResponse = self.client.open(path, method=method, **kwargs)
        if find_route(method, path):
            # Every answer of a known operation must match our OpenAPI document.
            validate_test_response(method, path, response)
        return response

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> TestResponse:
        return self.call("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> TestResponse:
        return self.call("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> TestResponse:
        return self.call("DELETE", path, **kw)

    # -- common steps -----------------------------------------------------------------------------
    def create_publisher(self, uid: str, publisher_id: str, name: str | None = None) -> dict[str, Any]:
        r = self.post("/publishers", as_=uid, json_body={"id": publisher_id, "name": name or publisher_id})
        assert r.status_code == 201, r.get_data(as_text=True)
        return dict(r.get_json())

    def create_token(self, uid: str, publisher_id: str, **body: Any) -> str:
        r = self.post(f"/publishers/{publisher_id}/tokens", as_=uid, json_body={"name": "ci", **body})
        assert r.status_code == 201, r.get_data(as_text=True)
        return str(r.get_json()["token"])

    def publish_body(self, token: str, node_id: str, version: str, **node: Any) -> dict[str, Any]:
        return {
            "personal_access_token": token,
            "node": {
                "id": node_id,
                "name": node.pop("name", node_id.title()),
                "description": "",
                "icon": "",
                "license": '{"text": "MIT"}',
                "repository": "https://github.com/x/y",
                **node,
            },
            "node_version": {"version": version, "dependencies": ["numpy"]},
        }

    def publish(
        self, publisher_id: str, node_id: str, version: str, token: str, *, upload: bool = True, **node: Any
    ) -> dict[str, Any]:
        """Publish, then (unless upload=False) upload a small clean pack, which the scanner makes active."""
        r = self.post(
            f"/publishers/{publisher_id}/nodes/{node_id}/versions",
            json_body=self.publish_body(token, node_id, version, **node),
        )
        assert r.status_code == 201, r.get_data(as_text=True)
        data = dict(r.get_json())
        # Where the upload lands in the quarantine (not on the wire: tests store archives there directly).
        data["storage_path"] = unquote(urlsplit(data["signedUrl"]).path).split("/", 4)[4]
        if upload:
            assert self.upload(data["signedUrl"], clean_pack(node_id, version)).status_code == 200
        return data

    def upload(self, signed_url: str, body: bytes, content_type: str = "application/zip") -> TestResponse:
        """PUT to a local signed URL, through the local blob store's own HTTP side."""
        parts = urlsplit(signed_url)
        blob_client = Client(self.container.blobs.wsgi)  # type: ignore[attr-defined]
        return blob_client.put(f"{parts.path}?{parts.query}", data=body, content_type=content_type)

    def download(self, url: str) -> TestResponse:
        """GET a local blob URL (a release, or a signed quarantine link) through the blob store's HTTP side."""
        parts = urlsplit(url)
        blob_client = Client(self.container.blobs.wsgi)  # type: ignore[attr-defined]
        return blob_client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)

    def owner_with_token(self, uid: str = "alice", publisher_id: str = "alice-pub") -> str:
        self.create_publisher(uid, publisher_id)
        return self.create_token(uid, publisher_id)
