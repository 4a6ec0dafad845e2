"""Which lines of a Python file some rule could care about, found on the text before the tree is walked.

Walking every node of a large module in Python costs about as much as parsing it, and most functions of most
packs (arithmetic, tensor code) hold nothing any rule reads. So the walk only enters a function whose lines hold
one of: a name a rule reacts to (a sink, a process or network call, a decoder, an import, a computed lookup), a
substring one of the text patterns needs, or string pieces glued together (which could hide such a substring).
Everything outside functions (module and class bodies) is always walked. This is a superset test: a line that
matches needs nothing, it only makes the walk look. Tests compare the gated walk against the full one.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from functions.scanner.rules.needles import Needles
from functions.scanner.rules.patterns import CREDENTIALS, ENDPOINTS, MINERS, PATTERN_NEEDLES

# Names the Python rules look at in calls, imports, lookups and attributes (case-sensitive, whole words).
_CODE_WORDS = r"""
execfile __import__ getattr setattr globals vars locals builtins __builtins__ __builtin__ __dict__
__getattribute__ __code__ FunctionType CodeType marshal pickle dill cloudpickle Unpickler ctypes _ctypes CDLL WinDLL
OleDLL PyDLL LoadLibrary dlopen cdll windll oledll subprocess system popen Popen startfile posix_spawn posix_spawnp
pty commands getoutput getstatusoutput create_subprocess_exec create_subprocess_shell pip urlopen urlretrieve urllib
urllib2 urllib3 requests httpx aiohttp pycurl HTTPConnection HTTPSConnection wget b64decode b32decode b32hexdecode
b16decode a85decode b85decode decodebytes decodestring unhexlify a2b_base64 a2b_hex a2b_uu fromhex
urlsafe_b64decode standard_b64decode decompress codecs chr bytearray chmod runpy environ sendall sendto
sendmail send_message upload upload_file put_object CryptUnprotectData win32crypt browser_cookie3 browsercookie
pycookiecheat rookiepy browser_history import_module attrgetter methodcaller
"""
# Only where not reached through an attribute: `model.eval()` and `re.compile(...)` are everywhere.
_BARE = frozenset({"exec", "eval", "compile"})
_MORE_WORDS = (
    "execl execle execlp execlpe execv execve execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp"
    " spawnvpe send bytes decode"
)
_WORDS = frozenset(w.lower() for w in (_CODE_WORDS + _MORE_WORDS).split()) | _BARE
# String literals glued together (`"a" + "b"`, `"a" "b"`, which could spell what no piece holds), escapes that
# spell text, a reversed slice, a URL to a numeric host, and the one text pattern without a substring to look for.
# Separate regexes: each starts with something the regex engine can scan for, which an alternation cannot.
# Each with a substring it cannot match without (checked first: `in` costs a small part of a regex pass).
_GLUE = tuple(
    (re.compile(pattern), needs)
    for pattern, needs in (
        (r"""["'](?:\s*\+\s*|\s+)[rRbBfFuU]{0,2}["']""", ""),
        (r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{3}|N\{)", "\\"),
        (r"::\s*-", "::"),
        (r"://\S*?[\d\[]", "://"),
        *((p.regex.pattern, "") for p in (*ENDPOINTS, *MINERS, *CREDENTIALS) if not p.needles),
    )
)
# What the text patterns need, without a trailing slash: `Path("atomic") / "x"` spells `atomic/x`.
_NEEDLES = frozenset(needle.rstrip("/") for needle in PATTERN_NEEDLES)
_FINDER = Needles(_WORDS | _NEEDLES)  # both in one pass over the text
_LITERALS = re.compile(r""""{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}|"[^"\n]*"|'[^'\n]*'""")


def interesting_lines(text: str) -> list[int]:
    """The sorted numbers (from 1) of the lines holding something a rule could read."""
    lower = text.lower()
    offsets: list[int] = []
    needles: set[str] = set()
    for word, start, end in _FINDER.occurrences(lower):
        if word in _NEEDLES:
            needles.add(word)
        if word in _WORDS and _whole_word(lower, word, start, end):
            offsets.append(start)
    for regex, needs in _GLUE:
        if needs in text:
            offsets += [m.start() for m in regex.finditer(text)]
    if needles:
        # A substring a text pattern looks for, in some string: wherever the substring is, the walk looks.
        literals = "\n".join(_LITERALS.findall(lower))
        for needle in needles:
            if needle in literals:
                offsets += _substring_offsets(lower, needle)
    if not offsets:
        return offsets
    offsets.sort()
    return _lines_at(text, offsets)


def _substring_offsets(lower: str, needle: str) -> list[int]:
    found: list[int] = []
    position = lower.find(needle)
    while position >= 0:
        found.append(position)
        position = lower.find(needle, position + 1)
    return found


def _word_offsets(lower: str, word: str) -> list[int]:
    """Where `word` occurs in `lower` as a whole word."""
    found: list[int] = []
    position = lower.find(word)
    while position >= 0:
        end = position + len(word)
        if _whole_word(lower, word, position, end):
            found.append(position)
        position = lower.find(word, end)
    return found


def _whole_word(lower: str, word: str, start: int, end: int) -> bool:
    """Between non-word characters (`pip` is not in `pipeline`), and after no dot for the bare builtins."""
    previous = lower[start - 1] if start else " "
    following = lower[end] if end < len(lower) else " "
    return not _is_word(previous) and not _is_word(following) and not (word in _BARE and previous == ".")


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _lines_at(text: str, offsets: list[int]) -> list[int]:
    lines: list[int] = []
    line, position = 1, 0
    count = text.count
    for offset in offsets:
        line += count("\n", position, offset)
        position = offset
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def lines_naming(text: str, names: Iterable[str]) -> list[int]:
    """The lines where one of `names` occurs as a whole word."""
    offsets: list[int] = []
    for name in {name for name in names if name}:
        offsets += _word_offsets(text, name)
    offsets.sort()
    return _lines_at(text, offsets)


def covers(lines: list[int], start: int, end: int) -> bool:
    """Whether one of the sorted `lines` falls within [start, end]."""
    index = bisect.bisect_left(lines, start)
    return index < len(lines) and lines[index] <= end


# Modules whose functions some rule reacts to: a name imported from one (`from subprocess import run`,
# `import base64 as b`) makes the lines that use it worth reading.
_WATCHED_MODULES = frozenset({
    "os", "posix", "nt", "sys", "builtins", "__builtin__", "importlib", "subprocess", "pty", "commands", "asyncio",
    "multiprocessing", "base64", "binascii", "codecs", "zlib", "bz2", "lzma", "gzip", "zstd", "zstandard", "lz4",
    "marshal", "pickle", "dill", "cloudpickle", "joblib", "ctypes", "_ctypes", "types", "operator", "urllib",
    "urllib2", "urllib3", "requests", "httpx", "aiohttp", "pycurl", "http", "wget", "pip", "runpy", "socket",
    "smtplib", "ftplib", "win32crypt", "browser_cookie3", "rookiepy", "webbrowser",
})  # fmt: skip


def alias_words(aliases: dict[str, str]) -> set[str]:
    return {local for local, target in aliases.items() if target.lstrip(".").split(".")[0] in _WATCHED_MODULES}
