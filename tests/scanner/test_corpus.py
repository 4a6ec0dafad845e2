"""Accuracy on the corpus: malicious packs written after known incidents, and honest packs doing what popular
packs really do. Every malicious sample must be flagged, no honest one may be, and every rule must catch
at least one sample. Run with `-s` to see the figures."""

from __future__ import annotations

from functools import cache

import pytest

from functions.scanner import RULES, ScanReport, Verdict
from tests.scanner.support import sample_zip, samples, scan_bytes

# What each malicious sample must at least be caught by (it may trip more).
EXPECTED = {
    "compromised_dependency": {"DEP-COMPROMISED"},
    "decoded_dropper": {"PY-OBFUSCATED-EXEC"},
    "dynamic_names": {"PY-DYNAMIC-NAME", "SHELL-DOWNLOADER", "PY-UNSAFE-DESERIALIZE"},
    "env_sweep": {"ENV-SECRET-EXFIL"},
    "exec_literal": {"PY-EXEC-LITERAL"},
    "hidden_webhook": {"EXFIL-ENDPOINT"},
    "js_cookie_exfil": {"JS-TOKEN-EXFIL", "JS-REMOTE-CODE"},
    "js_eval_miner": {"JS-EVAL-ENCODED", "MINER"},
    "js_fetched_code": {"JS-FETCHED-EXEC"},
    "key_grabber": {"CREDENTIAL-ACCESS", "EXFIL-ENDPOINT"},
    "llmvision_deps": {"DEP-URL"},
    "llmvision_stealer": {"CREDENTIAL-ACCESS", "EXFIL-ENDPOINT"},
    "native_payloads": {"NATIVE-BINARY", "PACKED-CODE"},
    "obfuscated_loaders": {"PY-OBFUSCATED-EXEC", "PY-DYNAMIC-IMPORT"},
    "pickle_payload": {"PY-OBFUSCATED-EXEC"},
    "pip_at_import": {"PIP-INSTALL", "PIP-INSTALL-URL", "PIP-INTERNAL", "DEP-TYPOSQUAT"},
    "pyc_override": {"PACKED-CODE"},
    "pyproject_substitution": {"DEP-URL", "DEP-INDEX"},
    "remote_exec": {"PY-DOWNLOAD-EXEC", "EXFIL-ENDPOINT"},
    "shell_scripts": {"SHELL-DOWNLOADER", "RAW-IP-ENDPOINT"},
    "shellcode_loader": {"PY-NATIVE-LOAD"},
    "tunnel_beacon": {"EXFIL-ENDPOINT", "RAW-IP-ENDPOINT"},
    "typosquat_requirements": {"DEP-TYPOSQUAT", "DEP-INDEX"},
    "ultralytics_miner": {"PY-DOWNLOAD-EXEC", "MINER"},
    "unparseable_payload": {"PY-OBFUSCATED-EXEC", "SCAN-INCOMPLETE"},
}
MALICIOUS = samples("malicious")
BENIGN = samples("benign")


@cache
def report(kind: str, name: str) -> ScanReport:
    from tests.scanner.support import CORPUS

    return scan_bytes(sample_zip(CORPUS / kind / name))


def test_the_manifest_lists_every_malicious_sample() -> None:
    assert {p.name for p in MALICIOUS} == set(EXPECTED)
    assert len(BENIGN) >= 10


@pytest.mark.parametrize("sample", [p.name for p in MALICIOUS])
def test_each_malicious_sample_is_caught(sample: str) -> None:
    result = report("malicious", sample)
    assert result.verdict == Verdict.SUSPICIOUS, result.findings
    assert EXPECTED[sample] <= {f.rule for f in result.findings}


@pytest.mark.parametrize("sample", [p.name for p in BENIGN])
def test_no_benign_sample_is_flagged(sample: str) -> None:
    result = report("benign", sample)
    assert result.verdict == Verdict.CLEAN, [f for f in result.findings if f.severity.rank >= result.flag_at.rank]
    assert result.extraction.status in ("success", "partial"), result.extraction.reason


def test_every_rule_catches_at_least_one_sample() -> None:
    caught = {f.rule for p in MALICIOUS for f in report("malicious", p.name).findings}
    assert set(RULES) - caught == set()


def test_accuracy_figures() -> None:
    flagged = {p.name for p in MALICIOUS if report("malicious", p.name).flagged}
    false_alarms = {p.name for p in BENIGN if report("benign", p.name).flagged}
    tp, fn, fp = len(flagged), len(MALICIOUS) - len(flagged), len(false_alarms)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    below = sum(
        1
        for p in BENIGN
        for f in report("benign", p.name).findings
        if f.severity.rank < report("benign", p.name).flag_at.rank
    )
    print(
        f"\ncorpus: {len(MALICIOUS)} malicious, {len(BENIGN)} benign; true positives {tp}, false negatives {fn}, "
        f"false positives {fp}; precision {precision:.2f}, recall {recall:.2f}; "
        f"{below} low/medium findings on benign packs (informational, not flagging)"
    )
    assert (precision, recall) == (1.0, 1.0)
