"""One scan: open the archive, stream its members through the rules, extract the nodes, decide the verdict."""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from functions.scanner.classify import keep_policy
from functions.scanner.extract import extract_nodes, summarize
from functions.scanner.extract.summary import ModuleSummary
from functions.scanner.limits import ScanLimits
from functions.scanner.report import ArchiveStats, Extraction, Finding, ScanReport, Verdict
from functions.scanner.rules import RULES, check_member
from functions.scanner.rules.base import Hit, SourceText
from functions.scanner.source import OpenedArchive, Source, open_archive
from functions.scanner.unpack import Member, iter_members
from functions.scanner.zipguard import ArchiveRejected

log = logging.getLogger(__name__)


def scan_archive(source: Source, limits: ScanLimits | None = None) -> ScanReport:
    """Scans a zip (a path, a folder, or a binary file object); never raises on hostile or broken input.

    A path that does not exist raises FileNotFoundError: a missing archive is the caller's case, not a verdict."""
    limits = limits or ScanLimits()
    opened: OpenedArchive | None = None
    try:
        with open_archive(source, limits) as opened:
            if opened.too_large:
                raise ArchiveRejected(f"archive exceeds {limits.max_archive_bytes} bytes", "too_large")
            return _scan(opened, limits)
    except ArchiveRejected as exc:
        return _unreadable(exc.reason, opened, limits)
    except FileNotFoundError:
        if opened is None:
            raise
        return _unreadable("the archive vanished while it was read", opened, limits)
    except Exception as exc:  # the verdict must exist whatever the archive did to the parser: logged, not raised
        log.exception("scanner failed on an archive")
        return _unreadable(f"the scanner could not read this archive ({type(exc).__name__})", opened, limits)


def _unreadable(reason: str, opened: OpenedArchive | None, limits: ScanLimits) -> ScanReport:
    return ScanReport(
        verdict=Verdict.UNREADABLE,
        reason=reason,
        sha256=opened.sha256 if opened else None,
        size=opened.size if opened else None,
        flag_at=limits.flag_at,
        extraction=Extraction(status="failed", reason="archive not readable"),
    )


@dataclass
class _Collector:
    limits: ScanLimits
    findings: list[Finding] = field(default_factory=list)
    seen: set[tuple[str, str, int | None, str]] = field(default_factory=set)
    summaries: list[ModuleSummary] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    omitted: int = 0

    def add(self, member: Member, hits: list[Hit], source: SourceText | None) -> None:
        for hit in hits:
            key = (hit.rule, member.name, hit.line, hit.message)
            if key in self.seen:
                continue
            self.seen.add(key)
            excerpt = source.excerpt(hit.line, hit.col) if source is not None else ""
            rule = RULES[hit.rule]
            message = hit.message or rule.title
            self.findings.append(Finding(rule=hit.rule, severity=hit.severity, file=member.name, line=hit.line,
                                         excerpt=excerpt, message=message))  # fmt: skip
        if len(self.findings) > 2 * self.limits.max_findings:
            self._prune()

    def _prune(self) -> None:
        """Keeps memory bounded on a pack that trips a rule everywhere: the most severe findings stay."""
        self.findings.sort(key=Finding.sort_key)
        self.omitted += len(self.findings) - self.limits.max_findings
        del self.findings[self.limits.max_findings :]


def _scan(opened: OpenedArchive, limits: ScanLimits) -> ScanReport:
    with _cyclic_gc_paused(), warnings.catch_warnings():
        # Invalid escape sequences in old code warn while it is parsed; they are not our business. Once per scan:
        # entering catch_warnings per file cost as much as a tenth of parsing a tiny one.
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _scan_members(opened, limits)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A scan builds and drops one syntax tree per Python file, none holding a cycle, so the cyclic collector would
    only walk the live ones again and again (a third of the cost of parsing a dense pack). Reference counting frees
    them; the collector is paused for the scan and restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _scan_members(opened: OpenedArchive, limits: ScanLimits) -> ScanReport:
    stats = ArchiveStats()
    collector = _Collector(limits)
    deadline = time.monotonic() + limits.max_scan_seconds
    scanned = 0  # into `stats` once at the end: a pydantic attribute set costs a microsecond a file
    for member in iter_members(opened.file, limits, keep_policy(limits), stats):
        if time.monotonic() > deadline:
            raise ArchiveRejected(f"scanning took longer than {limits.max_scan_seconds:g} seconds", "too_slow")
        result = check_member(member, limits)
        collector.add(member, result.hits, result.source)
        if result.tree is not None:
            collector.summaries.append(summarize(member.name, result.tree))
        elif result.python_unparsed:
            collector.unparsed.append(member.name)
        if result.source is not None:
            scanned += 1
            if scanned % 2000 == 0:
                gc.collect(1)  # whatever cyclic garbage a rule made, the young generations only
    stats.scanned_files += scanned
    extraction = extract_nodes(collector.summaries, collector.unparsed, limits.max_extracted_nodes)
    collector._prune()
    return _report(opened, limits, stats, collector, extraction)


def _report(
    opened: OpenedArchive, limits: ScanLimits, stats: ArchiveStats, collector: _Collector, extraction: Extraction
) -> ScanReport:
    kept, omitted = collector.findings, max(0, collector.omitted)
    flagging = [f for f in kept if f.severity.rank >= limits.flag_at.rank]
    verdict = Verdict.SUSPICIOUS if flagging else Verdict.CLEAN
    if flagging:
        rules = sorted({f.rule for f in flagging})
        reason = f"{len(flagging)} finding(s) at or above {limits.flag_at}: {', '.join(rules)}"
    else:
        reason = f"no finding at or above {limits.flag_at}"
    return ScanReport(
        verdict=verdict,
        reason=reason,
        sha256=opened.sha256,
        size=opened.size,
        flag_at=limits.flag_at,
        findings=kept,
        findings_omitted=omitted,
        extraction=extraction,
        stats=stats,
    )
