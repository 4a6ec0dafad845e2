"""API keys, admin key verification and sync, admin tokens (deployed within `billing`)."""

from __future__ import annotations

from functions.billing.keys import handlers
from shared.http.router import Route

ROUTES = [
    Route("GET", "/customers/api-keys", handlers.list_keys, "ListCustomerAPIKeys"),
    Route("POST", "/customers/api-keys", handlers.create_key, "CreateCustomerAPIKey"),
    Route("DELETE", "/customers/api-keys/<api_key_id>", handlers.delete_key, "DeleteCustomerAPIKey"),
    Route("POST", "/admin/verify-api-key", handlers.verify_key, "VerifyApiKey"),
    Route("POST", "/admin/sync-api-key-deletion", handlers.sync_deletion, "SyncApiKeyDeletion"),
    Route("POST", "/admin/generate-token", handlers.generate_token, "GenerateAdminToken"),
]
