"""What callers send to customer storage."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from functions.billing.common.schemas import Body


class StorageIn(Body):
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    content_type: Annotated[str, StringConstraints(max_length=256)] | None = None
    file_hash: Annotated[str, StringConstraints(max_length=128)] | None = None
