"""Folding ids so that look-alikes collide: `ComfyUI_Foo`, `comfyui-foo` and `c0mfyui.f00` are one name.

Used to refuse a new publisher or node id that would pass for an existing one (name squatting)."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s._\-]+")
# Sequences and characters that read as another in common fonts, folded to one spelling.
_SEQUENCES = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CHARACTERS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l"})


def fold(identifier: str) -> str:
    text = unicodedata.normalize("NFKC", identifier).casefold()
    text = _SEPARATORS.sub("", text)
    for sequence, replacement in _SEQUENCES:
        text = text.replace(sequence, replacement)
    return text.translate(_CHARACTERS)
