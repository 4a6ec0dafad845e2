"""Partners of the live spec, one catalog entry each (see `seed` for the shape and `prices` for the rules)."""

from __future__ import annotations

from functions.proxy.catalog.model import Partner

VIDEO_3D: tuple[Partner, ...] = ()
