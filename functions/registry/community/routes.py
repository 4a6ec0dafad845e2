"""Reviews and translations (deployed as `registry-community`)."""

from __future__ import annotations

from functions.registry.community import handlers
from shared.http.router import Route

ROUTES = [
    Route("POST", "/nodes/<node_id>/reviews", handlers.post_review, "postNodeReview"),
    Route("POST", "/nodes/<node_id>/translations", handlers.create_translations, "CreateNodeTranslations"),
]
