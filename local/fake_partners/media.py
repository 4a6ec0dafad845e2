"""The bytes the fake partners hand out as results: a tiny valid PNG, and a few bytes standing for MP4, GLB, MP3."""

from __future__ import annotations

import base64
import struct
import zlib


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = png()
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
GLB = b"glTF\x02\x00\x00\x00" + b"\x00" * 32
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 64
BY_EXTENSION = {
    "png": (PNG, "image/png"),
    "mp4": (MP4, "video/mp4"),
    "glb": (GLB, "model/gltf-binary"),
    "mp3": (MP3, "audio/mpeg"),
}


def b64_png() -> str:
    return base64.b64encode(PNG).decode()
