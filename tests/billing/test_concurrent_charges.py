"""200 concurrent charges of one micro-USD against a balance of 50, through the billing function
(`POST /customers/{id}/usage`, a hold and its capture), on SQLite and PostgreSQL: exactly 50 succeed, the rest are
402, the ledger sums to zero and nothing is left held or below zero."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor

from werkzeug.test import Client

from shared.ledger.accounts import EntryKind
from tests.billing.ledger_support import assert_balanced, balance, customer_with_credit, entries
from tests.billing.test_customers import replace_settings
from tests.support import RegistryClient

SECRET = "concurrency-secret"


def test_200_charges_of_one_against_50(api: RegistryClient) -> None:
    api.use(settings=replace_settings(api, ADMIN_SECRET_DIGEST=hashlib.sha256(SECRET.encode()).hexdigest()))
    customer_with_credit(api.container, "alice", 50)
    app = api.client.application

    def charge(_: int) -> int:
        body = {"transaction_id": str(uuid.uuid4()), "params": {"amount_micros": 1}}
        r = Client(app).post("/customers/alice/usage", json=body, headers={"X-Comfy-Admin-Secret": SECRET})
        if r.status_code == 402:
            assert r.get_json()["error"] == "insufficient_credit"
        return r.status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(charge, range(200)))
    assert statuses.count(200) == 50, statuses
    assert statuses.count(402) == 150
    b = balance(api.container, "alice")
    assert (b.available, b.held) == (0, 0)
    assert entries(api.container, EntryKind.CAPTURE) == 50
    assert_balanced(api.container)
