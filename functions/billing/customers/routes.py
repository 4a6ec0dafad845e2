"""Customers, balances, the trail and `/features` (deployed within `billing`)."""

from __future__ import annotations

from functions.billing.customers import handlers
from shared.http.router import Route

ROUTES = [
    Route("POST", "/customers", handlers.create_customer, "CreateCustomer"),
    Route("GET", "/customers", handlers.search_customers, "SearchCustomers"),
    Route("GET", "/customers/me", handlers.get_me, "GetAuthenticatedCustomer"),
    Route("GET", "/customers/balance", handlers.my_balance, "GetCustomerBalance"),
    Route("GET", "/customers/events", handlers.my_events, "GetCustomerEvents"),
    Route("GET", "/customers/<customer_id>", handlers.get_customer, "GetCustomerById"),
    Route("GET", "/customers/<customer_id>/balance", handlers.customer_balance, "GetCustomerBalanceById"),
    Route("GET", "/customers/<customer_id>/events", handlers.customer_events, "GetCustomerEventsById"),
    Route("GET", "/admin/customers/<customer_id>/balance", handlers.admin_customer_balance, "GetAdminCustomerBalance"),
    Route("GET", "/features", handlers.features, "GetFeatures"),
]
