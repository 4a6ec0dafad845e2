"""Customer storage: signed upload URLs for partner-call inputs."""

from __future__ import annotations

from flask import Request, Response

from functions.billing.common.http import caller
from functions.billing.storage import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http import params
from shared.http.responses import json_response


def create_storage(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.StorageIn)
    s = c.settings
    limits = usecases.StorageLimits(
        s.customer_storage_type_list, s.customer_storage_max_bytes, s.customer_storage_ttl_seconds
    )
    granted = usecases.create_upload(c.customer_storage, who, body.file_name, body.content_type, body.file_hash, limits)
    return json_response(serializers.grant(granted))
