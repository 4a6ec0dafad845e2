"""Python that runs hidden or downloaded code: decoded payloads into exec, fetched scripts, native loaders."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator

from functions.scanner.rules.base import CRITICAL, HIGH, LOW, MEDIUM, Hit
from functions.scanner.rules.py_process import INTERPRETERS, commands
from functions.scanner.rules.pyexpr import DOWNLOAD_TO_FILE, const_str, render
from functions.scanner.rules.pyfacts import DECODED, FETCHED, PyFacts, Scope
from functions.scanner.rules.pyfold import Folder

_CODE_SINKS = {"exec", "eval", "compile", "execfile", "__import__"}
_OBJECT_SINKS = {
    "types.FunctionType", "types.CodeType", "marshal.loads", "pickle.loads", "dill.loads", "cloudpickle.loads",
    "_pickle.loads",
}  # fmt: skip
_DESERIALIZERS = {"pickle.loads", "dill.loads", "cloudpickle.loads", "_pickle.loads"}
_BUILTIN_PREFIXES = ("builtins.", "__builtins__.", "__builtin__.", "__builtins__.__dict__.")
_NATIVE_LOADERS = {
    "ctypes.CDLL",
    "ctypes.WinDLL",
    "ctypes.OleDLL",
    "ctypes.PyDLL",
    "ctypes.cdll.LoadLibrary",
    "ctypes.windll.LoadLibrary",
    "ctypes.oledll.LoadLibrary",
    "ctypes.LibraryLoader",
    "_ctypes.dlopen",
    "_ctypes.LoadLibrary",
}
_INJECTION = re.compile(
    r"VirtualAlloc|VirtualProtect|CreateRemoteThread|WriteProcessMemory|RtlMoveMemory|CreateThread"
    r"|NtAllocateVirtualMemory|QueueUserAPC|NtCreateThreadEx"
)
_BUILTINS = frozenset(dir(builtins))
_ESCAPES = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\[0-7]{3}")
_LONG_LITERAL = 200
# Options and chmod modes between an interpreter and its script: `-u`, `/c`, `+x`, `u+rwx`, `755`.
_FLAG = re.compile(r"^(?:-|/[a-zA-Z]$|[ugoa]*[+=-][rwxX]+$|[0-7]{3,4}$)")


def sink_name(facts: PyFacts, call: ast.Call) -> str | None:
    """exec/eval/compile/__import__ however they are reached: by name, through builtins, getattr or a subscript."""
    name: str | None = facts.call_name(call) or None
    if name is not None:
        for prefix in _BUILTIN_PREFIXES:
            name = name.removeprefix(prefix)
        if name in _CODE_SINKS or name in _OBJECT_SINKS:
            return name
    func = call.func
    if isinstance(func, ast.Call) and facts.qualname(func.func) == "getattr" and len(func.args) >= 2:
        target = const_str(func.args[1], facts.aliases)
        return target if target in _CODE_SINKS else None
    if isinstance(func, ast.Subscript):
        target = const_str(func.slice, facts.aliases)
        return target if target in _CODE_SINKS else None
    return None


def check(facts: PyFacts) -> Iterator[Hit]:
    for call, scope in facts.calls:
        sink = sink_name(facts, call)
        if sink is not None:
            yield from _sink_hits(facts, call, scope, sink)
            continue
        name = facts.call_name(call)
        if name.startswith(("ctypes.", "_ctypes.")) and _INJECTION.search(name):
            yield Hit("PY-NATIVE-LOAD", CRITICAL, call.lineno, f"{name}: the calls of a shellcode loader")
        elif name in _NATIVE_LOADERS:
            yield Hit("PY-NATIVE-LOAD", MEDIUM, call.lineno, f"loads a native library with {name}")
    yield from _download_then_run(facts)


def _sink_hits(facts: PyFacts, call: ast.Call, scope: Scope, sink: str) -> Iterator[Hit]:
    args = [*call.args, *(k.value for k in call.keywords)]
    kinds: set[str] = set()
    for arg in args:
        kinds |= facts.kinds_of(arg, scope)
    line = call.lineno
    if sink in _DESERIALIZERS and kinds & {DECODED, FETCHED} and call.args:
        yield _deserialized(facts, call, scope, sink)
    elif DECODED in kinds:
        yield Hit("PY-OBFUSCATED-EXEC", CRITICAL, line, f"decoded or decompressed data passed to {sink}()")
    elif FETCHED in kinds:
        yield Hit("PY-DOWNLOAD-EXEC", CRITICAL, line, f"downloaded data passed to {sink}()")
    elif sink == "marshal.loads":
        yield Hit("PY-OBFUSCATED-EXEC", HIGH, line, "code objects unmarshalled from bytes")
    elif sink in ("exec", "eval", "compile", "execfile") and call.args:
        text = const_str(call.args[0], facts.aliases)
        if text is not None:
            yield _literal_hit(facts, call, sink, text)
    elif sink == "__import__" and call.args and const_str(call.args[0], facts.aliases) is None:
        yield Hit("PY-DYNAMIC-IMPORT", MEDIUM, line, "__import__ of a computed module name")


def _deserialized(facts: PyFacts, call: ast.Call, scope: Scope, sink: str) -> Hit:
    """A payload shipped in the code and unpickled is hidden code; data received at run time is not."""
    if Folder(facts).is_static(call.args[0], scope):
        return Hit("PY-OBFUSCATED-EXEC", CRITICAL, call.lineno, f"an encoded payload in the code passed to {sink}()")
    message = f"data received at run time, decoded or downloaded, passed to {sink}()"
    return Hit("PY-UNSAFE-DESERIALIZE", MEDIUM, call.lineno, message)


def _literal_hit(facts: PyFacts, call: ast.Call, sink: str, text: str) -> Hit:
    segment = ast.get_source_segment(facts.source.text, call.args[0]) or ""
    if len(_ESCAPES.findall(segment)) >= 16:
        return Hit("PY-OBFUSCATED-EXEC", CRITICAL, call.lineno, f"escape-encoded literal passed to {sink}()")
    if len(text) >= _LONG_LITERAL or text.strip().count("\n") >= 2:
        return Hit("PY-EXEC-LITERAL", HIGH, call.lineno, f"a {len(text)}-character literal passed to {sink}()")
    severity = LOW if sink == "eval" else MEDIUM
    return Hit("PY-EXEC-LITERAL", severity, call.lineno, f"a literal passed to {sink}()")


def _download_then_run(facts: PyFacts) -> Iterator[Hit]:
    """A file written from a download, then started, made executable or run as a script."""
    if FETCHED not in facts.present:
        return
    downloads = _downloaded_paths(facts)
    for command in commands(facts):
        program = _program(facts, command.argv)
        if program is not None and _refs(facts, program) & downloads:
            yield Hit("PY-DOWNLOAD-EXEC", CRITICAL, command.call.lineno, "runs a file it downloaded")
        elif program is not None and FETCHED in facts.kinds_of(program, command.scope):
            # What runs is downloaded (a fetched command line or `python -c <fetched>`), not merely an argument.
            yield Hit("PY-DOWNLOAD-EXEC", CRITICAL, command.call.lineno, "runs a downloaded command or script")
    if not downloads:
        return
    for call, _ in facts.calls:
        name = facts.call_name(call)
        if name in ("os.chmod", "runpy.run_path") and call.args and _refs(facts, call.args[0]) & downloads:
            yield Hit("PY-DOWNLOAD-EXEC", CRITICAL, call.lineno, f"{name} on a file it downloaded")


def _downloaded_paths(facts: PyFacts) -> set[str]:
    paths: set[str] = set()
    fetching_scopes = {id(s) for s in facts.scopes if FETCHED in s.producing}
    for call, scope in facts.calls:
        name = facts.call_name(call)
        if name in DOWNLOAD_TO_FILE:
            target = call.args[1] if len(call.args) > 1 else _keyword(call, "out", "filename")
            if target is not None:
                paths |= _refs(facts, target)
        elif name == "open" and id(scope) in fetching_scopes and _writes_binary(facts, call):
            paths |= _refs(facts, call.args[0])
    return paths


def _keyword(call: ast.Call, *names: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg in names), None)


def _writes_binary(facts: PyFacts, call: ast.Call) -> bool:
    mode_node = call.args[1] if len(call.args) > 1 else _keyword(call, "mode")
    mode = const_str(mode_node, facts.aliases) if mode_node is not None else None
    return bool(call.args) and mode is not None and "b" in mode and ("w" in mode or "a" in mode)


def _refs(facts: PyFacts, node: ast.AST) -> set[str]:
    """How an expression names a file: the variables in it (not modules or builtins) and the text it renders to."""
    names = facts.info(node).names - facts.imported - _BUILTINS
    refs = {f"name:{n}" for n in names}
    text = render(node, facts.aliases)
    if text and text.strip("{}"):
        refs.add(f"text:{text}")
    return refs


def _program(facts: PyFacts, argv: list[ast.expr]) -> ast.expr | None:
    """What the command runs: its first element, or the script an interpreter is given."""
    if len(argv) == 1 and isinstance(argv[0], ast.JoinedStr | ast.BinOp | ast.Constant):
        argv = _shell_words(argv[0])
    if not argv:
        return None
    first = render(argv[0], facts.aliases) or ""
    head = first.split()[0].strip("\"'").rsplit("/", 1)[-1].lower() if first.split() else ""
    if head in INTERPRETERS or first == "{sys.executable}":
        rest = [a for a in argv[1:] if not _FLAG.match(render(a, facts.aliases) or "")]
        return rest[0] if rest else argv[0]
    return argv[0]


def _shell_words(node: ast.expr) -> list[ast.expr]:
    """The first words of a shell line built from literals and values (`f"{exe} -o pool"`, `"chmod +x " + p`)."""
    words: list[ast.expr] = []
    for part in _concatenated(node):
        if isinstance(part, ast.FormattedValue):
            words.append(part.value)
        elif isinstance(part, ast.Constant) and isinstance(part.value, str):
            words.extend(ast.Constant(word) for word in part.value.split())
        else:
            words.append(part)
        if len(words) >= 4:
            break
    return words


def _concatenated(node: ast.expr) -> list[ast.expr]:
    parts: list[ast.expr] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.BinOp) and isinstance(item.op, ast.Add):
            stack.extend([item.right, item.left])
        elif isinstance(item, ast.JoinedStr):
            stack.extend(reversed(item.values))
        else:
            parts.append(item)
    return parts
