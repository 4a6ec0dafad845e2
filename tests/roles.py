"""Running each function as its own database role on PostgreSQL, as it is deployed: the profile each function logs
in with is read from terraform/functions.tf, its rights are what shared/db/grants.py grants (tools/migrate.py does the
same after every deploy's migration), and every request or event reaches the function with a container bound to
that role. A use case that touches a table its function's profile does not grant fails, as it would in the cloud."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from shared.adapters.database_search import DatabaseSearchIndex
from shared.billing.uow import BillingUnitOfWork, SqlBillingUnitOfWork
from shared.bootstrap import Container, get_container, set_container
from shared.db import grants
from shared.db.engine import session_factory
from shared.proxy.uow import ProxyUnitOfWork, SqlProxyUnitOfWork
from shared.uow import SqlUnitOfWork, UnitOfWork


def function_profiles() -> dict[str, str]:
    """Deployed function name -> the database profile it logs in with (terraform/functions.tf)."""
    from tests.deploy.support import tf_function_settings

    return {name: spec["database"] for name, spec in tf_function_settings().items()}


class Roles:
    """One login role per profile on a PostgreSQL server, for the session; dropped at its end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        run = uuid.uuid4().hex[:8]
        self.names = {profile: f"fn_{profile}_{run}" for profile in grants.PROFILES}

    def __enter__(self) -> Roles:
        self._admin(lambda conn: [conn.execute(text(f'CREATE ROLE "{r}" LOGIN')) for r in self.names.values()])
        return self

    def __exit__(self, *exc: object) -> None:
        self._admin(lambda conn: [conn.execute(text(f'DROP ROLE IF EXISTS "{r}"')) for r in self.names.values()])

    def _admin(self, work: Callable[[Any], object]) -> None:
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                work(conn)
        finally:
            admin.dispose()

    def grant(self, database_url: str) -> None:
        """Give every role its profile's rights in this (migrated) database, as tools/migrate.py does."""
        engine = create_engine(database_url)
        try:
            with engine.begin() as conn:
                for profile, role in self.names.items():
                    grants.grant(conn, role, profile)
        finally:
            engine.dispose()

    def url(self, database_url: str, profile: str) -> str:
        """`database_url` logged in as the role of `profile` (trust authentication, as the test cluster uses)."""
        url = make_url(database_url).set(username=self.names[profile], password=None)
        return url.render_as_string(hide_password=False)


def as_role(c: Container, sessions: sessionmaker[Session]) -> Container:
    """The same container with its units of work and search on `sessions` (its other ports, fakes included, kept).
    The download tally stays the container's: it buffers across requests, as in an instance, and tests look at it
    (tests/deploy/test_grants.py counts installs as `reads`)."""

    def new_uow() -> UnitOfWork:
        return SqlUnitOfWork(sessions, c.publisher, c.settings.events_topic, c.read_cache.invalidate)

    def new_billing_uow() -> BillingUnitOfWork:
        return SqlBillingUnitOfWork(sessions, c.tasks)

    def new_proxy_uow() -> ProxyUnitOfWork:
        return SqlProxyUnitOfWork(sessions, c.tasks)

    search = DatabaseSearchIndex(new_uow) if isinstance(c.search, DatabaseSearchIndex) else c.search
    return replace(
        c,
        sessions=sessions,
        uow=new_uow,
        search=search,
        billing_uow=new_billing_uow,
        proxy_uow=new_proxy_uow,
    )


class Binding:
    """Which functions run as which roles: the profile of each (terraform/functions.tf) in one database."""

    def __init__(self, roles: Roles, database_url: str) -> None:
        self.roles, self.database_url = roles, database_url
        self.profiles = function_profiles()
        self._engines: dict[str, Engine] = {}

    def sessions(self, function: str) -> sessionmaker[Session]:
        profile = self.profiles[function]
        if profile not in self._engines:
            self._engines[profile] = create_engine(self.roles.url(self.database_url, profile))
        return session_factory(self._engines[profile])

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()


_bound: Binding | None = None


@contextmanager
def bound(binding: Binding) -> Iterator[Binding]:
    """Within the block, each function (tests.support.Gateway's requests, the deliveries of tests/conftest.py) runs
    as its own role."""
    global _bound
    _bound = binding
    try:
        yield binding
    finally:
        _bound = None
        binding.close()


@contextmanager
def serving(function: str) -> Iterator[None]:
    """Run the block as `function` would be run: under its own role while roles are bound, else unchanged."""
    if _bound is None:
        yield
        return
    owner = get_container()
    set_container(as_role(owner, _bound.sessions(function)))
    try:
        yield
    finally:
        set_container(owner)


def background(function: str, deliver: Callable[..., None]) -> Callable[..., None]:
    """A delivery (an upload's scan, an event's release) as the function that receives it in the cloud."""

    def run(*args: Any) -> None:
        with serving(function):
            deliver(*args)

    return run
