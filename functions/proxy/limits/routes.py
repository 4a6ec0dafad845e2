"""Partner-node limits: the caller's concurrency, and an operator's overrides per customer and per model (a model id
may hold slashes: `kling/v1/videos/text2video`)."""

from __future__ import annotations

from functions.proxy.limits import handlers
from shared.http.router import Route

CUSTOMER = "/admin/customers/<customer_id>/partner-node-concurrency-override"
MODELS = "/admin/partner-node-model-overrides"

ROUTES = [
    Route("GET", "/customers/me/partner-node-concurrency", handlers.my_concurrency, "GetMyPartnerNodeConcurrency"),
    Route("GET", CUSTOMER, handlers.customer_override, "GetAdminCustomerConcurrencyOverride"),
    Route("PUT", CUSTOMER, handlers.set_customer_override, "SetAdminCustomerConcurrencyOverride"),
    Route("DELETE", CUSTOMER, handlers.clear_customer_override, "ClearAdminCustomerConcurrencyOverride"),
    Route("GET", MODELS, handlers.model_overrides, "ListAdminModelOverrides"),
    Route("GET", MODELS + "/<path:model>", handlers.model_override, "GetAdminModelOverride"),
    Route("PUT", MODELS + "/<path:model>", handlers.set_model_override, "SetAdminModelOverride"),
    Route("DELETE", MODELS + "/<path:model>", handlers.clear_model_override, "DeleteAdminModelOverride"),
]
