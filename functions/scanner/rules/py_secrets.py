"""Python reaching for secrets: credential stores by path or API, and the environment sent away whole."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from functions.scanner.rules.base import HIGH, Hit
from functions.scanner.rules.pyexpr import is_fetch_call
from functions.scanner.rules.pyfacts import SWEPT, PyFacts

_STEALER_MODULES = ("browser_cookie3", "browsercookie", "pycookiecheat", "win32crypt", "rookiepy", "browser_history")
_STEALER_CALLS = ("CryptUnprotectData", "win32crypt.", "browser_cookie3.", "rookiepy.")
_SEND_METHODS = {"send", "sendall", "sendto", "sendmail", "send_message", "upload", "upload_file", "put_object"}


def check(facts: PyFacts) -> Iterator[Hit]:
    yield from _stealer_apis(facts)
    yield from _environment_sent(facts)


def _stealer_apis(facts: PyFacts) -> Iterator[Hit]:
    for module, line in facts.imports:
        if module.split(".")[0] in _STEALER_MODULES:
            yield Hit("CREDENTIAL-ACCESS", HIGH, line, f"imports {module}, used to read browser secrets")
    for call, _ in facts.calls:
        name = facts.call_name(call)
        if any(marker in name for marker in _STEALER_CALLS):
            yield Hit("CREDENTIAL-ACCESS", HIGH, call.lineno, f"calls {name} (decrypts stored credentials)")


def _environment_sent(facts: PyFacts) -> Iterator[Hit]:
    """`os.environ` copied or iterated whole, reaching a network call (reading one variable is fine)."""
    if not facts.sweeps:
        return
    for call, scope in facts.calls:
        if not _sends(facts, call):
            continue
        values = [*call.args, *(k.value for k in call.keywords)]
        if any(SWEPT in facts.kinds_of(value, scope) for value in values):
            yield Hit("ENV-SECRET-EXFIL", HIGH, call.lineno, "the whole environment (tokens, keys) sent out")


def _sends(facts: PyFacts, call: ast.Call) -> bool:
    if is_fetch_call(call, facts.aliases, facts.fetch_helpers):
        return True
    return isinstance(call.func, ast.Attribute) and call.func.attr in _SEND_METHODS
