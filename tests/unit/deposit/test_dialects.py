"""Bags as other tools and the BagIt drafts write them (issue 12; docs/dialects.md).

Each dialect that is safe and complete is read with a warning naming it; what is unsafe,
incomplete or against RFC 8493 in a 1.0 bag stays an error. Every bag is built here.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from preserve.deposit import open_deposit
from preserve.deposit.tagfiles import encode_path, format_manifest_line, parse_manifest
from preserve.model import Severity

from .bags import all_findings, codes, make_bag, rewrite_manifests

FILES = {"a.txt": b"hello\n", "sub/b.bin": b"\x00\x01"}


def errors(findings) -> set[str]:
    return {f.code for f in findings if f.severity is Severity.ERROR}


def legacy_bag(root: Path, version: str, info_name: str, info: str) -> Path:
    """A bag as the 2008-2011 drafts wrote it: no tag manifest, metadata in `info_name`."""
    make_bag(root, FILES, version=version, tag_algorithms=())
    (root / "bag-info.txt").unlink()
    (root / info_name).write_text(info, encoding="utf-8")
    return root


@pytest.mark.parametrize("version", ["0.93", "0.94", "0.95"])
def test_package_info_of_the_early_drafts(tmp_path, version):
    root = legacy_bag(tmp_path / "bag", version, "package-info.txt",
                      "Source-Organization: Milliy kutubxona\nPayload-Oxum: 8.2\n")
    deposit = open_deposit(root, tmp_path / "work")
    found = all_findings(deposit)
    assert errors(found) == set()
    assert {"BAG-W005", "BAG-W006"} <= codes(found)
    assert deposit.bag_info_values("Source-Organization") == ["Milliy kutubxona"]
    assert deposit.bagit_version == version


def test_bag_0_96_uses_bag_info(tmp_path):
    root = legacy_bag(tmp_path / "bag", "0.96", "bag-info.txt", "Contact-Name: A\n")
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert errors(found) == set() and "BAG-W005" in codes(found)
    assert "BAG-W006" not in codes(found)


def test_package_info_is_only_metadata_in_the_early_drafts(tmp_path):
    root = legacy_bag(tmp_path / "bag", "0.97", "package-info.txt", "Contact-Name: A\n")
    deposit = open_deposit(root, tmp_path / "work")
    assert deposit.bag_info == () and "BAG-W006" not in codes(deposit.findings)
    assert "package-info.txt" in {t.path for t in deposit.tag_files}


@pytest.mark.parametrize("version, code", [("0.97", "BAG-W007"), ("0.95", "BAG-W007"),
                                           ("1.0", "BAG-E008")])
def test_label_whitespace(tmp_path, version, code):
    root = make_bag(tmp_path / "bag", FILES, version=version, tag_algorithms=())
    (root / "bag-info.txt").write_text("Source-Organization : Milliy kutubxona\n")
    deposit = open_deposit(root, tmp_path / "work")
    assert code in codes(deposit.findings)
    if code.startswith("BAG-W"):
        assert deposit.bag_info_values("Source-Organization") == ["Milliy kutubxona"]


@pytest.mark.parametrize("declaration", [
    b"BagIt-Version:  1.0\nTag-File-Character-Encoding: UTF-8\n",
    b"BagIt-Version: 1.0\t\nTag-File-Character-Encoding: UTF-8\n",
    b"BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
    b" BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    b"BagIt-Version: 1.0\nTag-File-Character-Encoding:  UTF-8\n",
    b"BagIt-Version: 1.0\n\nTag-File-Character-Encoding: UTF-8\n",
])
def test_bagit_txt_of_a_1_0_bag_is_exact(tmp_path, declaration):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "bagit.txt").write_bytes(declaration)
    assert "BAG-E002" in codes(open_deposit(root, tmp_path / "work").findings)


def test_bagit_txt_whitespace_in_a_draft_bag_is_a_warning(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, version="0.96", tag_algorithms=())
    (root / "bagit.txt").write_bytes(b"BagIt-Version:  0.96 \nTag-File-Character-Encoding: UTF-8\n")
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert errors(found) == set() and {"BAG-W005", "BAG-W007"} <= codes(found)


@pytest.mark.parametrize("write, code", [
    (lambda d, p: f"{d}  ./data/{p}", "MAN-W003"),
    (lambda d, p: f"{d} *data/{p}", "MAN-W004"),
    (lambda d, p: f"{d} *./data/{p}", "MAN-W003"),
])
def test_manifest_dialects(tmp_path, write, code):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    lines = "".join(write(hashlib.sha256(c).hexdigest(), p) + "\n" for p, c in FILES.items())
    (root / "manifest-sha256.txt").write_text(lines)
    deposit = open_deposit(root, tmp_path / "work")
    found = all_findings(deposit)
    assert errors(found) == set() and code in codes(found)
    assert [f.code for f in found].count(code) == 1  # one finding per manifest, not per line
    assert set(deposit.manifests["sha256"]) == set(FILES)


def test_tabs_and_several_spaces_are_rfc_8493(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    lines = "".join(f"{hashlib.sha256(c).hexdigest()}\t  \tdata/{p}\n" for p, c in FILES.items())
    (root / "manifest-sha256.txt").write_text(lines)
    assert all_findings(open_deposit(root, tmp_path / "work")) == []


@pytest.mark.parametrize("entry", ["./../outside", "*../outside", "./data/../../outside",
                                   "*/etc/passwd", "././../x"])
def test_dialect_escaping_the_bag_is_still_refused(tmp_path, entry):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    rewrite_manifests(root, {**{f"data/{p}": c for p, c in FILES.items()}, entry: b"x"})
    assert "MAN-E006" in codes(open_deposit(root, tmp_path / "work").findings)


@pytest.mark.parametrize("on_disk, listed, forms", [("NFD", "NFC", "NFC in the manifest"),
                                                    ("NFC", "NFD", "NFD in the manifest")])
def test_normalization_mismatch_is_matched_to_the_one_file(tmp_path, on_disk, listed, forms):
    name = "Oʻzbek qoʻlyozma é.txt"
    disk_name = unicodedata.normalize(on_disk, name)
    root = make_bag(tmp_path / "bag", {disk_name: b"x"}, tag_algorithms=())
    rewrite_manifests(root, {f"data/{unicodedata.normalize(listed, name)}": b"x"})
    deposit = open_deposit(root, tmp_path / "work")
    found = all_findings(deposit)
    assert errors(found) == set()
    [warning] = [f for f in found if f.code == "NAME-W003"]
    assert forms in warning.message and warning.path == f"data/{disk_name}"
    assert [p.path for p in deposit.payload] == [disk_name]  # byte-exact, as on disk
    assert list(deposit.manifests["sha256"]) == [disk_name]


def test_normalization_collision_stays_refused(tmp_path):
    nfc, nfd = unicodedata.normalize("NFC", "é.txt"), unicodedata.normalize("NFD", "é.txt")
    root = make_bag(tmp_path / "bag", {nfc: b"1", nfd: b"2"}, tag_algorithms=())
    rewrite_manifests(root, {f"data/{nfc}": b"1"})
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert "NAME-E002" in codes(found) and "NAME-W003" not in codes(found)


def test_empty_payload_directory_is_reported_dropped(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "data" / "empty" / "deeper").mkdir(parents=True)
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert errors(found) == set()
    assert {f.path for f in found if f.code == "PAY-W003"} == {"data/empty/", "data/empty/deeper/"}


@pytest.mark.parametrize("junk", [".DS_Store", "sub/Thumbs.db", "sub/._a.txt"])
def test_os_files_in_the_manifest_are_kept_with_a_warning(tmp_path, junk):
    files = {**FILES, junk: b"\x00\x05\x16\x07"}
    deposit = open_deposit(make_bag(tmp_path / "bag", files, tag_algorithms=()), tmp_path / "work")
    found = all_findings(deposit)
    assert errors(found) == set()
    assert [f.path for f in found if f.code == "PAY-W004"] == [f"data/{junk}"]
    assert junk in {p.path for p in deposit.payload}


def test_bag_info_value_xml_cannot_carry(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=(),
                    bag_info=[("Source-Organization", "Milliy\x01kutub\x0bxona")])
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert errors(found) == set()
    [warning] = [f for f in found if f.code == "BAG-W008"]
    assert "U+0001, U+000B" in warning.message


def test_tar_modes_not_kept_are_reported(tmp_path):
    bag = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    archive = tmp_path / "bag.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(bag.rglob("*")):
            info = tar.gettarinfo(str(path), "bag/" + path.relative_to(bag).as_posix())
            if path.name == "a.txt":
                info.mode = 0o4777
            with open(path, "rb") if path.is_file() else io.BytesIO() as data:
                tar.addfile(info, data if path.is_file() else None)
    deposit = open_deposit(archive, tmp_path / "work")
    found = all_findings(deposit)
    assert errors(found) == set()
    [warning] = [f for f in found if f.code == "SER-W002"]
    assert warning.path == "bag/data/a.txt" and "setuid, world-writable" in warning.message


_SEGMENT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\\x00"),
                   min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=4),
       prefix=st.sampled_from(["", "./", "*", "*./", "././"]),
       separator=st.sampled_from([" ", "  ", "\t", " \t "]))
def test_a_dialect_line_means_what_the_plain_line_means(segments, prefix, separator):
    """Property: `<digest><sep><prefix>data/p` parses to the entry of `<digest>  data/p`,
    whatever safe name p is (RFC 8493 §2.1.3 encoding applied to both)."""
    digest = hashlib.sha256(b"x").hexdigest()
    path = "data/" + "/".join(segments)
    assume(path[5] not in " \t" and not path.endswith((" ", "\t")))
    plain, _ = parse_manifest(format_manifest_line(digest, path), "m", "sha256", payload=True)
    line = f"{digest}{separator}{prefix}{encode_path(path)}\n"
    entries, found = parse_manifest(line, "manifest-sha256.txt", "sha256", payload=True)
    assume(plain)  # names with a line break inside segments etc. are other tests' business
    assert entries == plain
    assert errors(found) == set()


def test_zip_modes_not_kept_are_reported(tmp_path):
    import zipfile

    bag = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    archive = tmp_path / "bag.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(p for p in bag.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo("bag/" + path.relative_to(bag).as_posix())
            info.create_system = 3
            mode = 0o102666 if path.name == "a.txt" else 0o100644  # world-writable
            info.external_attr = mode << 16
            out.writestr(info, path.read_bytes())
    found = all_findings(open_deposit(archive, tmp_path / "work"))
    assert errors(found) == set()
    [warning] = [f for f in found if f.code == "SER-W002"]
    assert warning.path == "bag/data/a.txt" and "2666" in warning.message


def test_manifest_written_without_percent_encoding(tmp_path):
    """bagit-python writes `%` as is: `a%25b.txt` on disk, `data/a%25b.txt` in the manifest."""
    files = {"a%25b.txt": b"1", "100% toza.txt": b"2"}
    root = make_bag(tmp_path / "bag", files, tag_algorithms=())
    rewrite_manifests(root, {f"data/{p}": c for p, c in files.items()})  # no %-encoding
    deposit = open_deposit(root, tmp_path / "work")
    found = all_findings(deposit)
    assert errors(found) == set()
    assert [f.code for f in found].count("MAN-W005") == 1
    assert set(deposit.manifests["sha256"]) == set(files)


def test_percent_encoded_manifest_is_read_as_rfc_8493_says(tmp_path):
    files = {"a%b.txt": b"1", "a%25b.txt": b"2"}  # both: the encoded form is not ambiguous
    root = make_bag(tmp_path / "bag", files, tag_algorithms=())
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert found == []


def test_a_7z_aip_is_refused_with_a_hint(tmp_path):
    archive = tmp_path / "AIP-0b1d2c3e.7z"
    archive.write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64)
    deposit = open_deposit(archive, tmp_path / "work")
    [refusal] = deposit.findings
    assert refusal.code == "BAG-E012" and "7z x" in refusal.message
