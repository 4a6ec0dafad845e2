"""Shell, batch and PowerShell scripts shipped in the pack: downloaders, pip, endpoints, credential paths."""

from __future__ import annotations

import re
from collections.abc import Iterator

from functions.scanner.rules.base import Hit, SourceText
from functions.scanner.rules.commands import downloader_hits, pip_hits, split_command
from functions.scanner.rules.patterns import find_credentials, find_endpoints

_COMMENT = re.compile(r"^\s*(?:#|::|rem\s|')", re.IGNORECASE)


def check(source: SourceText) -> Iterator[Hit]:
    for number, raw in enumerate(source.lines(), 1):
        if not raw.strip() or _COMMENT.match(raw):
            continue
        yield from downloader_hits(raw, number)
        # A person runs these scripts by hand, like install.py: pip in them is expected.
        yield from pip_hits(split_command(raw), number, install_time=True)
    text = source.text
    for match in [*find_endpoints(text), *find_credentials(text.replace("\\", "/"))]:
        line, col = source.line_col(match.start)
        yield Hit(match.pattern.rule, match.pattern.severity, line, match.pattern.message, col)
