"""Metronome's zero-balance notification: verified as Metronome signs (HMAC-SHA256 of the date header, a newline and
the body), applied once by its id, noted in the customer's trail; forged, stale or unsigned ones are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.billing.stripe_support import METRONOME_SECRET, new_customer, stripe_api, stripe_servers, trail
from tests.faults.support import changes, snapshot
from tests.support import RegistryClient

__all__ = ["stripe_api", "stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PATH = "/webhook/metronome/zero-balance"


def notice(customer_id: str, notice_id: str = "ntf_1") -> bytes:
    body = {
        "id": notice_id,
        "type": "alerts.low_remaining_credit_balance_reached",
        "properties": {"customer_id": customer_id, "remaining_balance": 0},
    }
    return json.dumps(body).encode()


def signed(
    body: bytes, *, secret: str = METRONOME_SECRET, when: datetime | None = None, header: str = "Date"
) -> dict[str, str]:
    date = format_datetime(when or datetime.now(UTC), usegmt=True)
    digest = hmac.new(secret.encode(), date.encode() + b"\n" + body, hashlib.sha256).hexdigest()
    return {header: date, "Metronome-Webhook-Signature": digest}


def test_a_signed_notice_is_noted_once(stripe_api: RegistryClient) -> None:
    new_customer(stripe_api, "sam")
    body = notice("sam", "ntf_sam")
    for _ in range(3):
        r = stripe_api.post(PATH, data=body, headers=signed(body))
        assert r.status_code == 200, r.get_data(as_text=True)
    assert trail(stripe_api, "sam").count("metronome_zero_balance") == 1
    again = stripe_api.post(PATH, data=body, headers=signed(body, header="X-Metronome-Date"))
    assert again.status_code == 200 and again.get_json()["replayed"] is True


def test_a_notice_names_metronomes_customer_id(stripe_api: RegistryClient) -> None:
    new_customer(stripe_api, "tia")
    with stripe_api.container.billing_uow() as uow:
        customer = uow.customers.get("tia")
        assert customer is not None
        customer.metronome_customer_id = "0e6f2a1c-metronome-tia"
        uow.commit()
    body = notice("0e6f2a1c-metronome-tia", "ntf_tia")
    r = stripe_api.post(PATH, data=body, headers=signed(body))
    assert r.status_code == 200 and r.get_json()["handled"] is True
    assert "metronome_zero_balance" in trail(stripe_api, "tia")


@pytest.mark.parametrize(
    "headers",
    [
        lambda b: signed(b, secret="not-the-secret"),
        lambda b: signed(b, when=datetime.now(UTC) - timedelta(minutes=10)),
        lambda b: signed(b + b" "),
        lambda b: {k: v for k, v in signed(b).items() if k != "Metronome-Webhook-Signature"},
        lambda b: {k: v for k, v in signed(b).items() if k != "Date"},
    ],
    ids=["wrong-secret", "stale", "tampered", "unsigned", "no-date"],
)
def test_forged_or_stale_notices_are_401_and_change_nothing(stripe_api: RegistryClient, headers: object) -> None:
    new_customer(stripe_api, "ula")
    body = notice("ula", "ntf_ula")
    before = snapshot(stripe_api.container)
    r = stripe_api.post(PATH, data=body, headers=headers(body))  # type: ignore[operator]
    assert r.status_code == 401, r.get_data(as_text=True)
    assert not changes(before, snapshot(stripe_api.container))


def test_a_signed_but_malformed_notice_is_400(stripe_api: RegistryClient) -> None:
    for body in (b"not json", b"[]", json.dumps({"id": "x", "type": "t"}).encode()):
        assert stripe_api.post(PATH, data=body, headers=signed(body)).status_code == 400


def test_without_a_secret_metronome_notices_are_503(api: RegistryClient) -> None:
    body = notice("anyone")
    r = api.post(PATH, data=body, headers=signed(body))
    assert r.status_code == 503 and "METRONOME_WEBHOOK_SECRET" in r.get_json()["message"]
