"""Fixtures for the registry tests: Google OIDC service-account calls (see oidc_support) and seeded catalog rows
(see comfy_support). On PostgreSQL every request reaches its function under the function's own database role, with
the rights terraform/functions.tf and shared/db/grants.py give it in the cloud (tests/roles.py): a use case that
needs a right its function lacks fails here. Fixtures still write and check rows as the database's owner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.registry.comfy_support import Catalog
from tests.registry.oidc_support import GoogleCerts, ServiceAuth, install
from tests.roles import Binding, Roles, bound
from tests.support import RegistryClient


@pytest.fixture(autouse=True)
def each_function_as_its_role(request: pytest.FixtureRequest) -> Iterator[None]:
    url = request.getfixturevalue("database_url") if "database_url" in request.fixturenames else ""
    roles: Roles | None = request.getfixturevalue("database_roles") if url.startswith("postgresql") else None
    if roles is None:
        yield
        return
    with bound(Binding(roles, url)):
        yield


@pytest.fixture(scope="session")
def google_certs_server() -> Iterator[GoogleCerts]:
    """One signing key and certificate endpoint for the session, shut down at its end."""
    with GoogleCerts() as google:
        yield google


@pytest.fixture
def google_certs(google_certs_server: GoogleCerts) -> Iterator[GoogleCerts]:
    """The session's certificate endpoint, answering normally for this test whatever the last one did."""
    google_certs_server.fail_with(200)
    yield google_certs_server
    google_certs_server.fail_with(200)


@pytest.fixture
def service(api: RegistryClient, google_certs: GoogleCerts) -> ServiceAuth:
    """The test container accepts ID tokens minted by `google_certs` from the scheduler and extractor accounts."""
    return install(api, google_certs)


@pytest.fixture
def catalog(api: RegistryClient) -> Catalog:
    """alice owns alice-pub; nodes and versions are added straight to the database."""
    return Catalog(api)
