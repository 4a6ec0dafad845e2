"""The chart of accounts and the kinds of entry. Account ids are readable, so a posting explains itself."""

from __future__ import annotations

from enum import StrEnum

MICROS_PER_USD = 1_000_000


class AccountKind(StrEnum):
    AVAILABLE = "available"  # spendable credit
    HELD = "held"  # set aside for calls in flight
    PAYMENTS_CLEARING = "payments_clearing"  # money received through Stripe
    REVENUE = "revenue"  # credit spent on partner calls
    PROMOTIONS = "promotions"  # credit given away (grants, promotions)
    REFUNDS = "refunds"  # credit taken back by refunds and disputes


CUSTOMER_KINDS = (AccountKind.AVAILABLE, AccountKind.HELD)
SYSTEM_KINDS = (AccountKind.PAYMENTS_CLEARING, AccountKind.REVENUE, AccountKind.PROMOTIONS, AccountKind.REFUNDS)


class EntryKind(StrEnum):
    PURCHASE = "purchase"  # a paid Checkout Session or invoice
    PROMOTION = "promotion"  # credit granted by an operator or a promotion
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    EXPIRY = "expiry"  # a hold the sweep released because it outlived HOLD_MAX_AGE_MINUTES
    REFUND = "refund"
    DISPUTE = "dispute"
    DISPUTE_WON = "dispute_won"  # a dispute closed in our favour gives the credit back


class HoldStatus(StrEnum):
    HELD = "held"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


def customer_account(customer_id: str, kind: AccountKind) -> str:
    return f"customer:{customer_id}:{kind}"


def system_account(kind: AccountKind) -> str:
    return f"system:{kind}"


def micros_of_cents(cents: int) -> int:
    return cents * 10_000


def cents_of_micros(micros: int) -> int:
    """Stripe charges in cents: amounts offered for purchase are whole cents (see `require_whole_cents`)."""
    return micros // 10_000


def require_amount(amount: object) -> int:
    """An amount of money: a positive int (never a float or a bool)."""
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"an amount must be a positive integer of micro-USD, not {amount!r}")
    return amount
