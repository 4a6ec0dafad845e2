"""What every billing area's use cases need of a customer: its row, or a 404 that says how to become one."""

from __future__ import annotations

from shared.billing.uow import BillingUnitOfWork
from shared.db.billing_models import Customer
from shared.errors import NotFound


def require_customer(uow: BillingUnitOfWork, customer_id: str, *, lock: bool = False) -> Customer:
    customer = uow.customers.get(customer_id, lock=lock)
    if customer is None:
        raise NotFound(
            f"No customer {customer_id}: call POST /customers first to create one.", code="customer_not_found"
        )
    return customer
