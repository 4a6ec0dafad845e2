"""What the scanner found in a version, and a link to the archive it judged: for its publisher's owners and for
admins, never the public."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.handlers.common import caller, container
from functions.registry.usecases import scans
from shared import wire
from shared.http import params
from shared.http.responses import json_response
from shared.http.router import Route


def get_scan(request: Request, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request)
    row = scans.findings(container().uow(), identity, publisher_id, node_id, params.uuid_param(version_id, "versionId"))
    return json_response(
        {
            "version": row.version,
            "status": wire.version_status(row.status),
            "status_reason": row.status_reason,
            "archive_sha256": row.archive_sha256,
            "archive_size": row.archive_size,
            "scannedAt": wire.time(row.scanned_at),
            "findings": list(row.scan_findings or []),
        }
    )


def get_archive(request: Request, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request)
    c = container()
    link = scans.archive_link(
        c.uow(),
        c.blobs,
        c.settings.archive_download_ttl_seconds,
        identity,
        publisher_id,
        node_id,
        params.uuid_param(version_id, "versionId"),
    )
    return json_response(
        {
            "version": link.version.version,
            "status": wire.version_status(link.version.status),
            "archive_sha256": link.version.archive_sha256,
            "downloadUrl": link.url,
            "expiresAt": wire.time(link.expires_at),
        }
    )


ROUTES = [
    Route(
        "GET", "/publishers/<publisher_id>/nodes/<node_id>/versions/<version_id>/scan", get_scan, "getNodeVersionScan"
    ),
    Route(
        "GET",
        "/publishers/<publisher_id>/nodes/<node_id>/versions/<version_id>/archive",
        get_archive,
        "getNodeVersionArchive",
    ),
]
