"""Community answers with the node it changed: the shared node shape, translations included where they changed."""

from __future__ import annotations

from typing import Any

from functions.registry.common import serializers
from shared.db.models import Node
from shared.ports import BlobStore


def reviewed(node: Node, blobs: BlobStore) -> dict[str, Any]:
    return serializers.node(node, None, blobs)


def translated(node: Node, blobs: BlobStore) -> dict[str, Any]:
    return serializers.node(node, None, blobs, translations=True)
