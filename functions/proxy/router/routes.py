"""The Comfy Router: the model catalog, one model's entry and document, and running it by canonical id."""

from __future__ import annotations

from functions.proxy.router import handlers
from shared.http.router import Route

MODEL = "/v2/models/<provider>/<model>"

ROUTES = [
    Route("GET", "/v2/models", handlers.list_models, "ListRouterModels"),
    Route("GET", MODEL, handlers.get_model, "GetRouterModel"),
    Route("POST", MODEL, handlers.run_model, "RunRouterModel"),
    Route("GET", MODEL + "/openapi.json", handlers.model_document, "GetRouterModelOpenAPI"),
]
