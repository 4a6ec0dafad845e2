"""Usage: the customer's spend from the ledger, Metronome's dashboard, and the admin's usage operations (deployed
within `billing`)."""

from __future__ import annotations

from functions.billing.usage import handlers
from shared.http.router import Route

ROUTES = [
    Route("POST", "/customers/usage", handlers.dashboard, "GetCustomerUsage"),
    Route("GET", "/customers/usage/timeseries", handlers.timeseries, "GetCustomerUsageTimeSeries"),
    Route("POST", "/customers/<customer_id>/usage", handlers.track, "TrackCustomerUsage"),
    Route(
        "POST",
        "/admin/customers/<customer_id>/archive-metronome-data",
        handlers.archive_metronome,
        "PostAdminArchiveMetronomeData",
    ),
]
