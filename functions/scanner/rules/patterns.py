"""Text patterns for what no honest pack reaches for: exfiltration endpoints, miners, credential stores.

They run over a whole file (JavaScript, shell scripts) or over the strings a Python module builds (its
literals, folded concatenations, joined paths and statically decoded payloads), never over Python comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from functions.scanner.report import Severity
from functions.scanner.rules.base import CRITICAL, HIGH, MEDIUM, host_of
from functions.scanner.rules.hosts import public_ip
from functions.scanner.rules.needles import Needles


@dataclass(frozen=True)
class Pattern:
    rule: str
    severity: Severity
    message: str
    regex: re.Pattern[str]
    # Lower-case substrings (written `|`-separated), one of which every match contains: the regex only runs
    # when one is present, as a substring search costs a fraction of a regex pass and most files have none.
    needles: tuple[str, ...] = ()


def _p(rule: str, severity: Severity, message: str, regex: str, needles: str) -> Pattern:
    return Pattern(
        rule,
        severity,
        message,
        re.compile(regex, re.IGNORECASE | re.MULTILINE),
        tuple(n for n in needles.split("|") if n),
    )


_B = r"(?<![\w.-])"  # a host name starts here, not inside a longer one

ENDPOINTS = (
    _p("EXFIL-ENDPOINT", HIGH, "Discord webhook", r"discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/[\w-]+", "discord"),
    _p("EXFIL-ENDPOINT", MEDIUM, "Discord webhook address", r"discord(?:app)?\.com/api/(?:v\d+/)?webhooks", "discord"),
    _p(
        "EXFIL-ENDPOINT",
        HIGH,
        "Discord account API (token check)",
        r"discord(?:app)?\.com/api/(?:v\d+/)?users/@me",
        "discord",
    ),
    _p(
        "EXFIL-ENDPOINT",
        HIGH,
        "Slack webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/",
        "hooks.slack.com",
    ),
    _p("EXFIL-ENDPOINT", HIGH, "Telegram bot API", r"api\.telegram\.org/(?:file/)?bot", "api.telegram.org"),
    _p(
        "EXFIL-ENDPOINT",
        HIGH,
        "paste or anonymous file-drop site",
        _B + r"(?:pastebin\.com|paste\.ee|hastebin\.(?:com|skyra\.pw)|ghostbin\.\w+|rentry\.(?:co|org)|paste\.rs"
        r"|dpaste\.(?:com|org)|termbin\.com|transfer\.sh|file\.io|anonfiles\.com|0x0\.st|ix\.io|sprunge\.us"
        r"|controlc\.com|privatebin\.net|justpaste\.it|pastes\.io|paste\.c-net\.org|gofile\.io)\b",
        "paste|hastebin|ghostbin|rentry|termbin|transfer.sh|file.io|anonfiles|0x0.st|ix.io|sprunge|controlc|privatebin"
        "|justpaste|gofile",
    ),
    _p(
        "EXFIL-ENDPOINT",
        HIGH,
        "request catcher or out-of-band interaction host",
        _B + r"(?:webhook\.site|requestbin\.(?:com|net)|pipedream\.net|requestcatcher\.com|beeceptor\.com"
        r"|hookbin\.com|interact\.sh|oast\.(?:fun|live|me|online|pro|site)|burpcollaborator\.net"
        r"|canarytokens\.com|dnslog\.cn|ceye\.io)\b",
        "webhook.site|requestbin|pipedream|requestcatcher|beeceptor|hookbin|interact.sh|oast.|burpcollaborator"
        "|canarytokens|dnslog|ceye.io",
    ),
    _p(
        "EXFIL-ENDPOINT",
        HIGH,
        "tunnel endpoint (someone's machine behind ngrok or similar)",
        r"(?<![\w-])[\w-]{1,63}\.(?:ngrok\.io|ngrok-free\.app|ngrok\.app|ngrok-free\.dev|trycloudflare\.com|serveo\.net|loca\.lt"
        r"|localhost\.run|pinggy\.(?:io|link)|bore\.pub)\b",
        "ngrok|trycloudflare|serveo|loca.lt|localhost.run|pinggy|bore.pub",
    ),
    _p("EXFIL-ENDPOINT", MEDIUM, "opens a public tunnel to this machine", r"\bpyngrok\b|\bngrok\.connect\(", "ngrok"),
)

MINERS = (
    _p("MINER", CRITICAL, "mining pool protocol", r"stratum\+(?:tcp|ssl|tls)://", "stratum+"),
    _p(
        "MINER",
        CRITICAL,
        "XMRig miner",
        r"\bxmrig\b|--donate-level\b|--cpu-max-threads-hint\b",
        "xmrig|--donate-level|--cpu-max-threads-hint",
    ),
    _p(
        "MINER",
        CRITICAL,
        "mining pool",
        r"\b(?:minexmr|supportxmr|moneroocean|nanopool|hashvault|c3pool|herominers|unmineable"
        r"|2miners|f2pool|ethermine|nicehash|xmrpool|monerohash|minergate|dwarfpool|kryptex)\.\w+",
        "minexmr|supportxmr|moneroocean|nanopool|hashvault|c3pool|herominers|unmineable|2miners|f2pool|ethermine"
        "|nicehash|xmrpool|monerohash|minergate|dwarfpool|kryptex",
    ),
    _p(
        "MINER",
        CRITICAL,
        "in-browser miner",
        r"\bcoinhive\b|coin-hive\.com|\bCoinHive\.(?:Anonymous|User|Token)|crypto-?loot|webminepool|\bcoinimp\b"
        r"|jsecoin|minero\.cc|\bdeepMiner\b|webmine\.pro|\bcryptonight\b",
        "coinhive|coin-hive|crypto-loot|cryptoloot|webminepool|coinimp|jsecoin|minero.cc|deepminer|webmine|cryptonight",
    ),
    _p(
        "MINER",
        MEDIUM,
        "Monero wallet address",
        # The literal first lets the regex engine jump between the 4s instead of trying every position.
        r"4(?<![\w]4)[0-9AB][1-9A-HJ-NP-Za-km-z]{93}(?![\w])",
        "",
    ),
)

_URL_IP = re.compile(
    r"(?:https?|ftp|wss?|tcp|udp)://(?:[^/\s@'\"]*@)?\[?([0-9a-f:.]+?)\]?(?::\d+)?(?=[/\s'\"?#]|$)", re.I
)

# Checked on text whose backslashes became slashes, so Windows and POSIX paths read alike.
CREDENTIALS = (
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "browser profile folder",
        r"(?:google/chrome(?: beta| sxs)?|chromium|microsoft/edge|bravesoftware/brave-browser|yandex/yandexbrowser"
        r"|opera software/opera[\w ]*|vivaldi|epic privacy browser|comodo/dragon)/user data"
        r"|mozilla/firefox/profiles|\.mozilla/firefox|\.config/(?:google-chrome|chromium|brave)"
        r"|application support/(?:google/chrome|firefox|microsoft edge)",
        "user data|firefox|google-chrome|chromium|brave|application support",
    ),
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "browser password, cookie or key store",
        r"(?:^|/)(?:login data|local state|logins\.json|key[34]\.db|cookies\.sqlite|signons\.sqlite)$"
        r"|(?:^|/)network/cookies$|(?:default|profile \d+)/(?:network/)?cookies\b"
        r"|\bencrypted_key\b|\bCryptUnprotectData\b",
        "login data|local state|logins.json|key3.db|key4.db|cookies|signons|encrypted_key|cryptunprotectdata",
    ),
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "SSH keys",
        r"(?:^|/|~)\.ssh(?:/|$)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b",
        ".ssh|id_rsa|id_dsa|id_ecdsa|id_ed25519|authorized_keys",
    ),
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "cloud, git or package-registry credentials (or the instance metadata service)",
        r"\.aws/credentials|(?:^|/|~)\.aws(?:/|$)|\.azure/|gcloud/(?:credentials\.db|legacy_credentials|access_tokens)"
        r"|application_default_credentials\.json|\.docker/config\.json|\.kube/config|(?:^|/)\.netrc$"
        r"|\.git-credentials|(?:^|/)\.pypirc$|(?:^|/)\.npmrc$|169\.254\.169\.254|metadata\.google\.internal",
        ".aws|.azure|gcloud|application_default_credentials|.docker|.kube|.netrc|.git-credentials|.pypirc|.npmrc"
        "|169.254.169.254|metadata.google.internal",
    ),
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "Discord or Telegram session store",
        r"discord(?:canary|ptb)?/local storage/leveldb|(?:^|/)local storage/leveldb|telegram desktop/tdata",
        "leveldb|tdata",
    ),
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "cryptocurrency wallet",
        r"\bwallet\.dat\b|exodus/exodus\.wallet|electrum/wallets|atomic/local storage|ethereum/keystore"
        r"|solana/id\.json|nkbihfbeogaeaoehlefnkodbefgpgknn|bfnaelmomeimhlpmgjnjophhpkkoljpa",
        "wallet|exodus|electrum|atomic/|ethereum|solana|nkbihfbeogaeaoehlefnkodbefgpgknn"
        "|bfnaelmomeimhlpmgjnjophhpkkoljpa",
    ),
    _p(
        "CREDENTIAL-ACCESS",
        HIGH,
        "macOS keychain",
        r"login\.keychain|/keychains/|find-generic-password|find-internet-password|dump-keychain",
        "keychain|find-generic-password|find-internet-password",
    ),
)


PATTERN_NEEDLES = tuple({needle for pattern in (*ENDPOINTS, *MINERS, *CREDENTIALS) for needle in pattern.needles})
_NEEDLES = Needles(PATTERN_NEEDLES)


@dataclass(frozen=True, slots=True)
class Match:
    pattern: Pattern
    start: int


def find(
    text: str, patterns: tuple[Pattern, ...], lower: str | None = None, present: set[str] | None = None
) -> Iterator[Match]:
    """Every match; of two patterns of one rule matching at one place, only the first (the more specific).

    `present`: the needles found in `lower` (`needles_in`), when the caller already has them."""
    lower = text.lower() if lower is None else lower
    present = needles_in(lower) if present is None else present
    taken: set[tuple[str, int]] = set()
    for pattern in patterns:
        if pattern.needles and present.isdisjoint(pattern.needles):
            continue
        for match in pattern.regex.finditer(text):
            key = (pattern.rule, match.start())
            if key not in taken:
                taken.add(key)
                yield Match(pattern, match.start())


def needles_in(lower: str) -> set[str]:
    """Which substrings of the patterns' needles occur in `lower`, all in one pass."""
    return _NEEDLES.present(lower)


def find_endpoints(text: str, lower: str | None = None, present: set[str] | None = None) -> Iterator[Match]:
    """`present`: which PATTERN_NEEDLES occur in `lower` (others may be in it too), if the caller found them."""
    lower = text.lower() if lower is None else lower
    present = needles_in(lower) if present is None else present
    yield from find(text, ENDPOINTS, lower, present)
    yield from find(text, MINERS, lower, present)
    yield from find_public_ips(text)


_RAW_IP = Pattern("RAW-IP-ENDPOINT", HIGH, "URL to a public IP address", _URL_IP)
_SCHEMES = ("http", "https", "ftp", "ws", "wss", "tcp", "udp")


def find_public_ips(text: str) -> Iterator[Match]:
    """URLs whose host is a public IP address; the regex is only tried where `://` occurs."""
    position = text.find("://")
    while position >= 0:
        scheme_start = _scheme_start(text, position)
        if scheme_start is not None and (match := _URL_IP.match(text, scheme_start)) and public_ip(match.group(1)):
            yield Match(_RAW_IP, match.start())
        position = text.find("://", position + 3)


def _scheme_start(text: str, position: int) -> int | None:
    for scheme in _SCHEMES:
        begin = position - len(scheme)
        if begin >= 0 and text[begin:position].lower() == scheme and (begin == 0 or not text[begin - 1].isalnum()):
            return begin
    return None


def find_credentials(text: str, lower: str | None = None) -> Iterator[Match]:
    """`text` must have its backslashes turned into slashes (same length, so offsets hold)."""
    yield from find(text, CREDENTIALS, text.lower() if lower is None else lower)


def urls_in(text: str) -> list[str]:
    return re.findall(r"\b(?:https?|ftp)://[^\s'\"<>`)]+", text)


def hosts_in(text: str) -> list[str]:
    return [host_of(url) for url in urls_in(text)]
