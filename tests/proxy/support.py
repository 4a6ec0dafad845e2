"""Steps the gateway tests share: a customer with a key and credit, calls through /proxy, the ledger as it stands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from werkzeug.test import TestResponse

from local.fake_partners import FakePartners
from shared.bootstrap import Container
from shared.db.billing_models import CreditHold, LedgerEntry
from shared.ledger import audit
from shared.ledger.accounts import EntryKind
from tests.support import RegistryClient


class ProxyClient(RegistryClient):
    def __init__(self, client: Any, container: Container, fakes: FakePartners) -> None:
        super().__init__(client, container)
        self.fakes = fakes

    def customer(self, uid: str, usd_micros: int) -> str:
        """A customer with `usd_micros` of credit and an API key; the key."""
        assert self.post("/customers", as_=uid).status_code in (200, 201)
        if usd_micros:
            with self.container.billing_uow() as uow:
                uow.ledger.grant(f"promo:{uid}", EntryKind.PROMOTION, uid, usd_micros)
                uow.commit()
        created = self.post("/customers/api-keys", as_=uid, json_body={"name": "gateway"})
        assert created.status_code == 201, created.get_data(as_text=True)
        return str(created.get_json()["api_key"]["plaintext_key"])

    def with_key(
        self,
        method: str,
        path: str,
        key: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> TestResponse:
        return self.call(method, path, json_body=json_body, headers={"X-API-Key": key, **(headers or {})}, **kw)

    def available(self, uid: str) -> int:
        with self.container.billing_uow() as uow:
            return int(uow.ledger.balance(uid).available)

    def charges(self, uid: str) -> list[LedgerEntry]:
        with self.container.sessions() as s:
            query = select(LedgerEntry).where(
                LedgerEntry.customer_id == uid, LedgerEntry.kind == str(EntryKind.CAPTURE)
            )
            return list(s.scalars(query))

    def held(self, uid: str) -> int:
        with self.container.sessions() as s:
            query = select(func.count()).where(CreditHold.customer_id == uid, CreditHold.status == "held")
            return int(s.scalar(query) or 0)

    def assert_balanced(self) -> None:
        with self.container.sessions() as s:
            check = audit.check(s)
            assert check.ok, check
