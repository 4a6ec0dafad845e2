"""Safe unpacking: every limit, every refused kind of path, malformed archives and zip bombs."""

from __future__ import annotations

import hashlib
import io
import random
import stat
import zipfile

import pytest

from functions.scanner import ScanLimits, Verdict, scan_archive
from functions.scanner.classify import KeepFor
from functions.scanner.report import ArchiveStats
from functions.scanner.unpack import HEAD, _Budget, iter_members
from functions.scanner.zipguard import ArchiveRejected
from tests.scanner.support import make_zip, rename, scan_bytes, set_entry_count, set_flags, set_sizes

MB = 1024 * 1024
PACK = {"__init__.py": "NODE_CLASS_MAPPINGS = {}\n", "nodes.py": "X = 1\n"}


def unreadable(data: bytes, limits: ScanLimits | None = None) -> str:
    report = scan_bytes(data, limits)
    assert report.verdict == Verdict.UNREADABLE, report.findings
    assert report.extraction.status == "failed"
    return report.reason


def info(name: str, mode: int | None = None, system: int = 3, attr: int | None = None) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name)
    entry.create_system = system
    if mode is not None:
        entry.external_attr = mode << 16
    if attr is not None:
        entry.external_attr = attr
    return entry


def test_a_plain_pack_is_read_with_its_hash_and_size() -> None:
    data = make_zip(PACK)
    report = scan_bytes(data)
    assert report.verdict == Verdict.CLEAN
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.size == len(data)
    assert report.stats.files == 2 and report.stats.uncompressed_bytes == sum(len(v) for v in PACK.values())


def test_a_path_and_a_stream_that_cannot_seek_give_the_same_report(tmp_path) -> None:
    data = make_zip(PACK)
    path = tmp_path / "node.zip"
    path.write_bytes(data)

    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer) -> int:
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    small_spool = ScanLimits(spool_memory_bytes=64)  # forces the spool to disk
    from_path, from_stream = scan_archive(path), scan_archive(io.BufferedReader(Stream()), small_spool)
    assert from_path.sha256 == from_stream.sha256 == hashlib.sha256(data).hexdigest()
    assert from_path.findings == from_stream.findings


# Limits --------------------------------------------------------------------------------------------------------


def test_archive_size_limit_refuses_before_reading(tmp_path) -> None:
    data = make_zip({"a.py": "x" * 5000}, method=zipfile.ZIP_STORED)
    reason = unreadable(data, ScanLimits(max_archive_bytes=1000))
    assert "exceeds 1000 bytes" in reason
    path = tmp_path / "big.zip"
    path.write_bytes(data)
    report = scan_archive(path, ScanLimits(max_archive_bytes=1000))
    assert report.verdict == Verdict.UNREADABLE and report.size == len(data) and report.sha256 is None


def test_archive_size_limit_on_a_stream_that_cannot_seek() -> None:
    data = make_zip({"a.py": "x" * 5000}, method=zipfile.ZIP_STORED)

    class OneWay(io.BytesIO):
        def seekable(self) -> bool:
            return False

    report = scan_archive(OneWay(data), ScanLimits(max_archive_bytes=1000))
    assert report.verdict == Verdict.UNREADABLE and report.size is None


def test_file_count_limit_from_the_end_record() -> None:
    data = make_zip({f"f{i}.txt": "" for i in range(30)})
    assert "30 entries" in unreadable(data, ScanLimits(max_files=10))


def test_file_count_limit_when_the_end_record_lies() -> None:
    data = set_entry_count(make_zip({f"f{i}.txt": "" for i in range(30)}), 1)
    assert "more than 10 entries" in unreadable(data, ScanLimits(max_files=10))


def test_central_directory_size_limit() -> None:
    data = make_zip({f"some/longer/name/{i}.txt": "" for i in range(20)})
    assert "central directory" in unreadable(data, ScanLimits(max_central_directory_bytes=300))


def test_declared_file_size_limit() -> None:
    data = make_zip({"weights.bin": b"\0" * 2000})
    assert "declares 2000 bytes" in unreadable(data, ScanLimits(max_file_bytes=1000, ratio_min_bytes=10**9))


def test_declared_total_size_limit() -> None:
    data = make_zip({f"part{i}.bin": b"\0" * 600 for i in range(4)})
    assert "2400 bytes uncompressed" in unreadable(data, ScanLimits(max_total_uncompressed_bytes=2000))


def test_actual_bytes_are_counted_not_the_headers() -> None:
    """A header that claims 10 bytes for a megabyte of data: zipfile cuts the output and the CRC fails."""
    data = set_sizes(make_zip({"payload.bin": b"A" * MB}), 10)
    assert "malformed archive" in unreadable(data)


def test_stats_count_the_bytes_read_not_the_headers() -> None:
    # Headers that overstate every size: what counts is what comes out of the decompressor.
    data = set_sizes(make_zip({f"p{i}.bin": b"B" * 100 for i in range(5)}), 5000)
    report = scan_bytes(data, ScanLimits(max_total_uncompressed_bytes=30_000))
    assert report.verdict == Verdict.CLEAN
    assert report.stats.uncompressed_bytes == 500


def test_the_running_total_is_enforced_while_reading() -> None:
    budget = _Budget(1000)
    budget.spend(600)
    with pytest.raises(ArchiveRejected, match="more than 1000 bytes"):
        budget.spend(600)


def test_a_real_zip_bomb_is_refused_on_its_ratio() -> None:
    bomb = make_zip({"model.safetensors": b"\0" * (8 * MB)})
    assert len(bomb) < 20_000  # deflate shrinks zeros about a thousandfold
    limits = ScanLimits(max_compression_ratio=100, ratio_min_bytes=MB)
    assert "zip bomb" in unreadable(bomb, limits)


def test_ratio_is_not_checked_on_small_files() -> None:
    report = scan_bytes(make_zip({"empty.json": " " * 100_000}), ScanLimits(max_compression_ratio=10))
    assert report.verdict == Verdict.CLEAN


def test_an_archive_two_levels_down_is_not_expanded() -> None:
    inner = make_zip({"zeros.bin": b"\0" * (4 * MB)})
    middle: dict[str, str | bytes] = {"again.zip": inner}
    outer_files: dict[str, str | bytes] = {"__init__.py": "", "assets/inner.zip": make_zip(middle)}
    outer = make_zip(outer_files)
    report = scan_bytes(outer, ScanLimits(max_total_uncompressed_bytes=MB))
    assert report.verdict == Verdict.CLEAN
    assert report.stats.uncompressed_bytes < 100_000
    assert [(f.rule, f.file) for f in report.findings] == [
        ("PACKED-CODE", "assets/inner.zip"),
        ("PACKED-CODE", "assets/inner.zip!again.zip"),
    ]
    said = [f.message for f in report.findings]
    assert said == ["a nested archive (its files are scanned too)", "a nested archive (not unpacked by the scanner)"]


def test_members_that_no_rule_reads_are_streamed_not_kept() -> None:
    files: dict[str, str | bytes] = {"models/big.bin": random.Random(0).randbytes(3 * MB), "nodes.py": "print(1)\n"}
    data = make_zip(files)
    stats = ArchiveStats()
    members = list(iter_members(io.BytesIO(data), ScanLimits(), KeepFor(1024), stats))
    big = next(m for m in members if m.name == "models/big.bin")
    assert big.content is None and len(big.head) == HEAD and big.size == 3 * MB
    source = next(m for m in members if m.name == "nodes.py")
    assert source.content == b"print(1)\n" and not source.truncated


def test_text_larger_than_the_limit_is_partly_scanned_and_reported() -> None:
    report = scan_bytes(make_zip({"web/app.js": "let a = 1;\n" * 2000}), ScanLimits(max_text_bytes=1000))
    assert [(f.rule, f.severity) for f in report.findings] == [("SCAN-INCOMPLETE", "high")]


def test_python_over_the_syntax_limit_falls_back_to_patterns() -> None:
    source = "import base64\n" + "x = 1\n" * 500 + "exec(base64.b64decode('cHJpbnQoMSk='))\n"
    report = scan_bytes(make_zip({"big.py": source}), ScanLimits(max_python_ast_bytes=1000))
    assert {(f.rule, f.severity) for f in report.findings} == {
        ("SCAN-INCOMPLETE", "medium"),
        ("PY-OBFUSCATED-EXEC", "high"),
    }


def test_findings_limit_keeps_the_most_severe() -> None:
    files = {f"m{i}.py": "eval('1')\n" for i in range(30)} | {"x.py": "exec(__import__('base64').b64decode('eA=='))"}
    report = scan_bytes(make_zip(files), ScanLimits(max_findings=5))
    assert len(report.findings) == 5 and report.findings_omitted == 26
    assert report.findings[0].severity == "critical"


# Refused paths -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("/etc/passwd", "absolute"),
        ("../outside.py", "traversal"),
        ("pack/../../outside.py", "traversal"),
        ("./nodes.py", "traversal"),
        ("a//b.py", "empty component"),
        ("C:/Windows/evil.dll", "absolute"),
        ("C:evil.py", "absolute"),
        ("a\\..\\..\\evil.py", "backslash"),
        ("nodes.py:hidden", "colon"),
        ("nodes.py.", "aliases another path"),
        ("nodes.py ", "aliases another path"),
        ("web/CON", "aliases another path"),
        ("web/aux.js", "aliases another path"),
        ("bad\nname.py", "control character"),
        ("x" * 500, "too long"),
        ("/".join(["d"] * 40) + "/f.py", "nested"),
    ],
)
def test_refused_names(name: str, words: str) -> None:
    assert words in unreadable(make_zip({name: "x"}))


def test_a_nul_byte_in_a_name_is_refused() -> None:
    data = rename(make_zip({"evil.pyZ.txt": "x"}), b"evil.pyZ.txt", b"evil.py\x00.txt")
    assert "control character" in unreadable(data)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (info("link.py", stat.S_IFLNK | 0o777), "symbolic link"),
        (info("pipe", stat.S_IFIFO | 0o644), "special file"),
        (info("tty", stat.S_IFCHR | 0o644), "special file"),
        (info("sock", stat.S_IFSOCK | 0o644), "special file"),
        (info("junction", system=0, attr=0x410), "reparse point"),
        (info("folder", stat.S_IFDIR | 0o755), "without a trailing slash"),
    ],
)
def test_refused_entry_types(entry: zipfile.ZipInfo, words: str) -> None:
    assert words in unreadable(make_zip([(entry, b"target")]))


def test_directory_entry_with_data_is_refused() -> None:
    assert "carries data" in unreadable(make_zip({"dir/": b"hidden"}))


@pytest.mark.parametrize(
    "names",
    [
        ["nodes.py", "nodes.py"],
        ["Nodes.py", "nodes.py"],
        ["caf\u00e9.py", "cafe\u0301.py"],  # the same name, NFC and NFD
        ["web", "web/app.js"],  # a file and a directory of one name
    ],
)
def test_duplicates_are_refused(names: list[str]) -> None:
    assert "duplicate" in unreadable(make_zip([(n, "x") for n in names])) or "both a file" in unreadable(
        make_zip([(n, "x") for n in names])
    )


def test_encrypted_entries_are_refused() -> None:
    assert "encrypted" in unreadable(set_flags(make_zip({"a.py": "x"}), 0x1))


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compression_methods_that_cannot_be_bounded_are_refused(method: int) -> None:
    assert "only stored and deflated" in unreadable(make_zip({"a.py": "x" * 100}, method=method))


# Malformed archives --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not a zip"),
        (b"hello, not a zip at all", "not a zip"),
        (b"PK\x03\x04" + b"\0" * 40, "end-of-central-directory"),
        (b"MZ" + b"\0" * 100 + make_zip(PACK), "before its first entry"),
    ],
)
def test_malformed_archives(data: bytes, words: str) -> None:
    assert words in unreadable(data)


def test_truncated_archive() -> None:
    data = make_zip({"a.py": "print(1)\n" * 100})
    assert unreadable(data[: len(data) // 2])


def test_corrupt_member_data() -> None:
    data = bytearray(make_zip({"a.py": "print('hello world')\n" * 50}))
    data[40:60] = b"\xff" * 20  # inside the deflate stream
    assert "malformed archive" in unreadable(bytes(data))


def test_overlapping_entries_are_refused() -> None:
    data = bytearray(make_zip({"a.py": "1", "b.py": "2"}))
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    data[second + 42 : second + 46] = b"\0\0\0\0"  # b.py's header offset now points at a.py
    assert "overlaps" in unreadable(bytes(data))


def test_random_damage_never_escapes_as_an_exception() -> None:
    base = make_zip({"__init__.py": "NODE_CLASS_MAPPINGS = {}\n", "web/a.js": "fetch('/x')\n" * 20, "r.txt": "x"})
    rng = random.Random(1234)
    verdicts = set()
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        report = scan_bytes(bytes(data))
        verdicts.add(report.verdict)
        assert report.verdict in (Verdict.CLEAN, Verdict.SUSPICIOUS, Verdict.UNREADABLE)
        assert report.verdict != Verdict.UNREADABLE or report.reason
    assert Verdict.UNREADABLE in verdicts


def test_rejection_reasons_carry_a_code() -> None:
    with pytest.raises(ArchiveRejected) as caught:
        list(iter_members(io.BytesIO(make_zip({"../x": ""})), ScanLimits(), KeepFor(0), ArchiveStats()))
    assert caught.value.code == "bad_path"


def test_a_folder_stores_what_a_symlink_points_at_as_comfy_cli_does(tmp_path) -> None:
    """comfy-cli's zipfile.write follows links: the registry judges the target's bytes, so the folder scan does too
    (a link inside an uploaded zip is still refused: see the symlink cases above)."""
    (tmp_path / "__init__.py").write_text("NODE_CLASS_MAPPINGS = {}\n")
    payload = tmp_path.parent / f"{tmp_path.name}-outside.py"
    payload.write_text("import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n")
    (tmp_path / "helper.py").symlink_to(payload)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    report = scan_archive(tmp_path)
    assert report.verdict == Verdict.SUSPICIOUS
    assert {(f.rule, f.file) for f in report.findings} >= {("PY-OBFUSCATED-EXEC", "helper.py")}
    assert report.stats.files == 2  # the dangling link is left out, as comfy-cli leaves out what does not exist


def test_the_time_budget_ends_a_slow_scan() -> None:
    files: dict[str, str | bytes] = {f"m{i}.py": "x = 1\n" for i in range(50)}
    assert "longer than" in unreadable(make_zip(files), ScanLimits(max_scan_seconds=1e-9))


def test_a_missing_path_is_the_callers_case(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        scan_archive(tmp_path / "gone.zip")


# -- archives inside the pack ------------------------------------------------------------------------------------
EVIL = "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"


def test_nested_wheels_and_zips_are_scanned_one_level_deep() -> None:
    wheel = make_zip({"helper/__init__.py": EVIL, "helper-0.1.dist-info/METADATA": "Name: helper\n"})
    deeper = make_zip({"inner.zip": make_zip({"deep.py": EVIL})})
    files: dict[str, str | bytes] = {**PACK, "wheels/helper-0.1-py3-none-any.whl": wheel, "assets/x.zip": deeper}
    report = scan_bytes(make_zip(files))
    assert report.verdict == Verdict.SUSPICIOUS
    caught = {f.file for f in report.findings if f.rule == "PY-OBFUSCATED-EXEC"}
    assert caught == {"wheels/helper-0.1-py3-none-any.whl!helper/__init__.py"}  # not the zip two levels down
    assert report.stats.files == 2 + 2 + 2 + 1  # the pack's, the wheel's, the zip's and its inner zip entry


def test_a_clean_nested_archive_and_a_file_merely_named_zip_pass() -> None:
    files: dict[str, str | bytes] = {**PACK, "vendor/lib.zip": make_zip({"lib/util.py": "X = 2\n"}), "fake.whl": b"no"}
    data = make_zip(files)
    assert scan_bytes(data).verdict == Verdict.CLEAN


@pytest.mark.parametrize(
    ("inner", "code"),
    [
        (make_zip({"../escape.py": "x"}), "traversal"),
        (make_zip({"a.py": "x", "A.py": "y"}), "duplicate"),
        (make_zip({"bomb.txt": b"0" * (3 * MB)}), "zip bomb"),
        (make_zip({f"f{i}.py": "" for i in range(8)}), "more than the limit"),
    ],
)
def test_nested_archives_pass_the_same_checks(inner: bytes, code: str) -> None:
    limits = ScanLimits(max_files=10, ratio_min_bytes=MB, max_compression_ratio=100)
    files: dict[str, str | bytes] = {**PACK, "dist/inner.zip": inner}
    reason = unreadable(make_zip(files), limits)
    assert reason.startswith("in dist/inner.zip: ") and code in reason


def test_nested_bytes_count_towards_the_decompressed_total() -> None:
    inner = make_zip({"data.bin": random.Random(1).randbytes(300_000)}, method=zipfile.ZIP_STORED)
    limits = ScanLimits(max_total_uncompressed_bytes=700_000)  # the inner zip counts, and then its files
    assert scan_bytes(make_zip({"a.zip": inner}), limits).verdict == Verdict.CLEAN
    assert "decompressed" in unreadable(make_zip({"a.zip": inner, "b.zip": inner}), limits)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_small_members_read_directly_match_what_zipfile_reads(method: int) -> None:
    rng = random.Random(3)
    files: dict[str, str | bytes] = {f"m/{i}.py": f"X = {i}\n" * rng.randint(0, 900) for i in range(40)}
    files |= {"empty.txt": b"", "noise.bin": rng.randbytes(70_000), "utf8/é.py": "Y = 'é'\n"}
    data = make_zip(files, method=method)
    with io.BytesIO(data) as handle:
        read = {m.name: m for m in iter_members(handle, ScanLimits(), lambda name: 1 << 20, ArchiveStats())}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            expected = archive.read(info)
            member = read[info.filename]
            assert member.size == len(expected) and member.content == expected and member.head == expected[:HEAD]


def test_a_local_header_naming_another_file_is_refused() -> None:
    data = make_zip({"__init__.py": "", "nodes.py": "X = 1\n"})
    local = data.index(b"nodes.py")  # the local header comes first, the central directory's copy later
    assert local < data.rindex(b"nodes.py")
    tampered = data[:local] + b"nodez.py" + data[local + 8 :]  # the local header only
    assert "malformed archive" in unreadable(tampered)


def test_a_small_member_whose_bytes_changed_fails_its_crc() -> None:
    data = make_zip({"__init__.py": "", "nodes.py": "X = 'abcdefgh'\n"}, method=zipfile.ZIP_STORED)
    tampered = data.replace(b"abcdefgh", b"abcdefgX", 1)
    assert "malformed archive" in unreadable(tampered)
