"""The rules, run member by member: binaries on every file, content rules on the files of a known kind."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from functions.scanner.classify import Kind, is_install_script, kind_of, looks_binary
from functions.scanner.limits import ScanLimits
from functions.scanner.rules import binaries, deps, javascript, python, shell
from functions.scanner.rules.base import HIGH, RULES, Hit, Rule, SourceText
from functions.scanner.unpack import Member

__all__ = ["RULES", "MemberResult", "Rule", "check_member"]


@dataclass
class MemberResult:
    hits: list[Hit] = field(default_factory=list)
    source: SourceText | None = None
    tree: ast.Module | None = None  # for node extraction, dropped by the caller once summarised
    python_unparsed: bool = False


def check_member(member: Member, limits: ScanLimits) -> MemberResult:
    result = MemberResult(hits=list(binaries.check(member.name, member.head)))
    kind = kind_of(member.name)
    if kind is None or member.content is None:
        return result
    if member.truncated:
        note = f"{member.size} bytes, only the first {limits.max_text_bytes} were scanned"
        result.hits.append(Hit("SCAN-INCOMPLETE", HIGH, None, note))
    if kind != Kind.PYTHON and looks_binary(member.content):
        return result  # a binary that shares an extension with sources (an MPEG `.ts` video)
    source = SourceText(member.name, member.content.decode("utf-8", "replace"))
    result.source = source
    if kind == Kind.PYTHON:
        analysed = python.analyze(source, member.content, limits.max_python_ast_bytes, is_install_script(member.name))
        result.hits.extend(analysed.hits)
        result.tree = analysed.tree
        result.python_unparsed = analysed.tree is None
    elif kind in (Kind.JAVASCRIPT, Kind.HTML):
        result.hits.extend(javascript.check(source))
    elif kind == Kind.SHELL:
        result.hits.extend(shell.check(source))
    elif kind == Kind.REQUIREMENTS:
        result.hits.extend(deps.requirements_hits(source))
    elif kind == Kind.PYPROJECT:
        result.hits.extend(deps.pyproject_hits(source))
    return result
