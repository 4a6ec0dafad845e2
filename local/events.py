"""In-process delivery of the events that Google infrastructure delivers in the cloud."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from shared.adapters.inprocess_publisher import Message

log = logging.getLogger(__name__)


def deliver_finalized(bucket: str, path: str, size: int) -> None:
    """What Cloud Storage's object.finalized trigger does: hand the scanner a CloudEvent for the new object."""
    from cloudevents.http import CloudEvent

    from functions.scanner.main import scanner

    event = CloudEvent(
        {
            "type": "google.cloud.storage.object.v1.finalized",
            "id": str(uuid.uuid4()),
            "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
            "subject": f"objects/{path}",
        },
        {"bucket": bucket, "name": path, "size": str(size)},
    )
    try:
        scanner(event)
    except Exception:  # like Cloud Storage: the upload itself has succeeded; the scan sweep retries
        log.exception("local scanner failed on %s", path)


def finalized_in_background(wait_seconds: float) -> Callable[[str, str, int], None]:
    """The finalize hook of the served stack: the scan runs on a thread of its own, as Eventarc runs the scanner apart
    from Cloud Storage, and the upload's answer waits at most `wait_seconds` for it (a small pack is judged by the
    time comfy-cli hears 200, a long scan never holds the upload)."""

    def hook(bucket: str, path: str, size: int) -> None:
        scan = threading.Thread(target=deliver_finalized, args=(bucket, path, size), name=f"scan {path}", daemon=True)
        scan.start()
        scan.join(wait_seconds)

    return hook


def deliver_to_releases(message: Message) -> None:
    """What the `scanner-release` push subscription does: hand a registry event to the scanner's releases."""
    from functions.scanner.main import handle_release_message

    handle_release_message(message.data, message.attributes)
