"""Customer storage (deployed within `billing`)."""

from __future__ import annotations

from functions.billing.storage import handlers
from shared.http.router import Route

ROUTES = [Route("POST", "/customers/storage", handlers.create_storage, "CreateCustomerStorageResource")]
