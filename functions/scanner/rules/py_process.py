"""Processes started from Python: pip installs, downloaders, and the command lines both hide in."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from functions.scanner.rules.base import HIGH, MEDIUM, Hit
from functions.scanner.rules.commands import downloader_hits, pip_hits, split_command
from functions.scanner.rules.pyexpr import render
from functions.scanner.rules.pyfacts import PyFacts, Scope

_LIST_FORM = {
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.popen",
    "os.startfile",
    "pty.spawn",
    "commands.getoutput",
    "os.posix_spawn",
    "os.posix_spawnp",
}
_EXEC_FAMILY = ("os.exec", "os.spawn")
INTERPRETERS = {
    "{sys.executable}", "python", "python3", "python.exe", "py", "sh", "bash", "zsh", "cmd", "cmd.exe",
    "powershell", "powershell.exe", "pwsh", "node", "wscript", "cscript", "msiexec", "rundll32", "start", "chmod",
    "nohup", "sudo", "setsid",
}  # fmt: skip


@dataclass
class Command:
    call: ast.Call
    scope: Scope
    argv: list[ast.expr]  # one element holding the whole line for shell strings
    tokens: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def process_name(facts: PyFacts, call: ast.Call) -> str | None:
    name = facts.call_name(call)
    if name in _LIST_FORM or name.startswith(_EXEC_FAMILY):
        return name
    return None


def commands(facts: PyFacts) -> Iterator[Command]:
    for call, scope in facts.calls:
        name = process_name(facts, call)
        if name is None or not call.args:
            continue
        args = call.args
        if name.startswith(("os.exec", "os.spawn", "os.posix_spawn", "asyncio.create_subprocess_exec")):
            argv = [a for a in args if not _is_mode(a)]
        else:
            argv = _argv(facts, scope, args[0])
        yield Command(call, scope, argv, _tokens(facts, argv))


def _is_mode(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr.startswith("P_")


def _argv(facts: PyFacts, scope: Scope, first: ast.expr, depth: int = 0) -> list[ast.expr]:
    """The command's elements: a list, a name bound to one in reach (the last binding), or `base + [...]`."""
    if isinstance(first, ast.List | ast.Tuple):
        return list(first.elts)
    if isinstance(first, ast.BinOp) and isinstance(first.op, ast.Add) and depth < 8:
        left, right = _argv(facts, scope, first.left, depth + 1), _argv(facts, scope, first.right, depth + 1)
        if isinstance(first.left, ast.List | ast.Tuple | ast.Name) or isinstance(first.right, ast.List | ast.Tuple):
            return left + right
    if isinstance(first, ast.Name) and depth < 8:
        for enclosing in scope.chain():
            bound = [
                v for n, v in enclosing.assigns if n == first.id and isinstance(v, ast.List | ast.Tuple | ast.BinOp)
            ]
            if bound:
                return _argv(facts, scope, bound[-1], depth + 1)
    return [first]


def _tokens(facts: PyFacts, argv: list[ast.expr]) -> list[str]:
    parts = ["{*}" if isinstance(e, ast.Starred) else (render(e, facts.aliases) or "{}") for e in argv]
    return split_command(parts[0]) if len(parts) == 1 else parts


def check(facts: PyFacts) -> Iterator[Hit]:
    for command in commands(facts):
        line = command.call.lineno
        yield from pip_hits(command.tokens, line, facts.install_script)
        yield from downloader_hits(command.text, line)
    yield from _pip_api(facts)


def _pip_api(facts: PyFacts) -> Iterator[Hit]:
    for module, line in facts.imports:
        if module.startswith(("pip._internal", "pip._vendor")):
            yield Hit("PIP-INTERNAL", HIGH, line, f"imports {module}, pip's internal API")
    for call, _ in facts.calls:
        name = facts.call_name(call)
        if name.startswith(("pip._internal", "pip._vendor")):
            yield Hit("PIP-INTERNAL", HIGH, call.lineno, f"calls {name}")
        elif name == "pip.main":
            yield Hit("PIP-INSTALL", MEDIUM, call.lineno, "runs pip in-process with pip.main")
