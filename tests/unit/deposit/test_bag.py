"""Bag directories: structural findings (RFC 8493 sections 2 and 3) and the bagit oracle."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import unicodedata
from pathlib import Path

import bagit
import pytest

from preserve.deposit import DepositKind, Limits, open_deposit

from .bags import MULTILINGUAL, all_findings, codes, make_bag, rewrite_manifests

FILES = {"a.txt": b"hello\n", "sub dir/b.bin": b"\x00\x01\x02", "empty.txt": b""}


def read(root: Path, tmp_path: Path, limits: Limits = Limits()):
    """open_deposit with a guard: a hang (bagit-python opens FIFOs) fails the test."""
    result = []
    worker = threading.Thread(target=lambda: result.append(
        open_deposit(root, tmp_path / "work", limits)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "open_deposit hung"
    return result[0]


def oracle_accepts(root: Path) -> None:
    bagit.Bag(str(root)).validate()


@pytest.mark.parametrize("version", ["1.0", "0.97"])
def test_valid_bag_round_trip(tmp_path, version):
    files = {**FILES, **MULTILINGUAL}
    root = make_bag(tmp_path / "bag", files, algorithms=("sha256", "sha512"), version=version)
    deposit = read(root, tmp_path)
    assert deposit.kind is DepositKind.BAG
    assert deposit.bagit_version == version
    assert all_findings(deposit) == []
    assert [p.path for p in deposit.payload] == sorted(files)
    for entry in deposit.payload:  # byte-exact names
        assert entry.path.encode("utf-8") in {k.encode("utf-8") for k in files}
        assert entry.size == len(files[entry.path])
    assert set(deposit.manifests) == {"sha256", "sha512"}
    assert deposit.manifests["sha256"]["a.txt"] == hashlib.sha256(b"hello\n").hexdigest()
    assert "bag-info.txt" in {t.path for t in deposit.tag_files}
    assert deposit.bag_info_values("payload-oxum") == [
        f"{sum(map(len, files.values()))}.{len(files)}"]
    assert not (tmp_path / "work").exists()  # directories are read in place
    oracle_accepts(root)


def test_missing_bagit_txt(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    (root / "bagit.txt").unlink()
    deposit = read(root, tmp_path)
    assert deposit.kind is DepositKind.BAG  # it has manifests: a broken bag, not a folder
    assert "BAG-E001" in codes(deposit.findings)
    for manifest in root.glob("*manifest-*.txt"):
        manifest.unlink()
    assert read(root, tmp_path).kind is DepositKind.FOLDER


def test_bagit_txt_problems_in_a_bag(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    (root / "bagit.txt").write_bytes(b"\xef\xbb\xbfBagIt-Version: 1.0\n"
                                     b"Tag-File-Character-Encoding: UTF-8\n")
    assert "BAG-E005" in codes(read(root, tmp_path).findings)
    (root / "bagit.txt").write_bytes(b"BagIt-Version: 1.1\nTag-File-Character-Encoding: UTF-8\n")
    assert "BAG-E003" in codes(read(root, tmp_path).findings)
    (root / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: no\n")
    assert "BAG-E004" in codes(read(root, tmp_path).findings)
    (root / "bagit.txt").write_bytes(b"hello\n")
    assert "BAG-E002" in codes(read(root, tmp_path).findings)


def test_bagit_txt_symlink_is_never_followed(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    (root / "bagit.txt").unlink()
    (tmp_path / "elsewhere.txt").write_text("BagIt-Version: 1.0\n")
    (root / "bagit.txt").symlink_to(tmp_path / "elsewhere.txt")
    assert "PAY-E001" in codes(read(root, tmp_path).findings)


def test_declared_encoding_is_used_for_tag_files(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: "
                                     b"windows-1251\n")
    (root / "bag-info.txt").write_bytes("Title: Ўзбекистон\n".encode("cp1251"))
    deposit = read(root, tmp_path)
    assert deposit.encoding == "cp1251"
    assert deposit.bag_info == (("Title", "Ўзбекистон"),)
    assert codes(deposit.findings) == {"BAG-W004"}


def test_mis_encoded_bag_info_is_an_error_not_a_crash(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "bag-info.txt").write_bytes("Title: Ўзбекистон\n".encode("cp1251"))
    assert "BAG-E006" in codes(read(root, tmp_path).findings)


def test_bom_in_bag_info_is_tolerated(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "bag-info.txt").write_bytes(b"\xef\xbb\xbfContact-Name: A\n")
    deposit = read(root, tmp_path)
    assert codes(deposit.findings) == {"BAG-W001"}
    assert deposit.bag_info == (("Contact-Name", "A"),)


def test_nul_in_bag_info(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "bag-info.txt").write_bytes(b"Contact-Name: A\x00B\n")
    assert "BAG-E007" in codes(read(root, tmp_path).findings)


@pytest.mark.parametrize("oxum, code", [("abc", "BAG-E009"), ("12", "BAG-E009"),
                                        ("9.4", "BAG-E010"), ("6.2", "BAG-E010")])
def test_payload_oxum(tmp_path, oxum, code):
    root = make_bag(tmp_path / "bag", FILES, oxum=False, tag_algorithms=(),
                    bag_info=[("Payload-Oxum", oxum)])
    assert code in codes(read(root, tmp_path).findings)


def test_repeated_payload_oxum_disagreeing(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=(),
                    bag_info=[("Payload-Oxum", "1.1")])
    assert "BAG-E009" in codes(read(root, tmp_path).findings)


def test_missing_data_dir_and_empty_payload(tmp_path):
    root = make_bag(tmp_path / "bag", {}, tag_algorithms=())
    deposit = read(root, tmp_path)
    assert codes(deposit.findings) == {"PAY-W001"}
    os.rmdir(root / "data")
    assert "BAG-E011" in codes(read(root, tmp_path).findings)


def test_no_payload_manifest(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=(), tag_algorithms=())
    assert "MAN-E001" in codes(read(root, tmp_path).findings)


def test_md5_only_is_a_warning(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=("md5",))
    deposit = read(root, tmp_path)
    assert codes(all_findings(deposit)) == {"MAN-W001"}


def test_unsupported_algorithm(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "manifest-crc99.txt").write_text("00  data/a.txt\n")
    assert "MAN-E003" in codes(read(root, tmp_path).findings)


def test_file_not_in_manifest_and_entry_without_file(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=("sha256", "sha512"), tag_algorithms=())
    (root / "data" / "extra.txt").write_bytes(b"x")
    rewrite_manifests(root, {"data/a.txt": b"hello\n", "data/sub dir/b.bin": b"\x00\x01\x02",
                             "data/empty.txt": b"", "data/ghost.txt": b"boo"})
    found = codes(read(root, tmp_path, ).findings)
    assert {"MAN-E008", "MAN-E009"} <= found


def test_manifest_escape_is_never_opened(tmp_path):
    """bagit-python reads ../sibling/x listed in a tag manifest; we never open it."""
    root = make_bag(tmp_path / "bag", FILES)
    secret = tmp_path / "sibling" / "x"
    secret.parent.mkdir()
    secret.write_bytes(b"secret")
    os.chmod(secret, 0)  # opening it would fail loudly (unless root)
    with open(root / "tagmanifest-sha256.txt", "a") as out:
        out.write(f"{hashlib.sha256(b'secret').hexdigest()}  ../sibling/x\n")
    with open(root / "manifest-sha256.txt", "a") as out:
        out.write(f"{hashlib.sha256(b'secret').hexdigest()}  data/../../sibling/x\n")
    found = all_findings(read(root, tmp_path))
    assert codes(found) >= {"MAN-E006"}
    assert all(f.code != "BAG-E015" for f in found)


def test_fetch_listed_file_is_incomplete_never_fetched(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "data" / "a.txt").unlink()
    (root / "fetch.txt").write_text("http://127.0.0.1:9/a.txt 6 data/a.txt\n")
    deposit = read(root, tmp_path)
    assert "BAG-E014" in codes(deposit.findings)
    assert "MAN-E009" not in codes(deposit.findings)
    assert deposit.fetch == (("http://127.0.0.1:9/a.txt", 6, "data/a.txt"),)


def test_percent_names_in_manifest(tmp_path):
    files = {"100% rag.txt": b"p", "line\nbreak.txt": b"n"}
    root = make_bag(tmp_path / "bag", files)
    deposit = read(root, tmp_path)
    assert codes(all_findings(deposit)) == {"NAME-W002"}  # the line break, kept
    assert set(deposit.manifests["sha256"]) == set(files)


def test_special_files_are_errors_and_never_opened(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    (root / "data" / "link").symlink_to("/etc/passwd")
    os.mkfifo(root / "data" / "fifo")
    os.mkfifo(root / "tagfifo.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "data" / "sock"))
    try:
        deposit = read(root, tmp_path)  # read() fails the test if this hangs
    finally:
        sock.close()
    paths = {f.path for f in deposit.findings if f.code == "PAY-E001"}
    assert paths == {"data/link", "data/fifo", "data/sock", "tagfifo.txt"}
    assert "link" not in {p.path for p in deposit.payload}


def test_fifo_listed_as_tag_file_does_not_hang(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    (root / "bag-info.txt").unlink()
    os.mkfifo(root / "bag-info.txt")
    deposit = read(root, tmp_path)
    assert "PAY-E001" in codes(deposit.findings)


def test_name_collisions_and_control_characters(tmp_path):
    nfc = unicodedata.normalize("NFC", "й.txt")
    nfd = unicodedata.normalize("NFD", "й.txt")
    files = {nfc: b"1", nfd: b"2", "Readme": b"3", "README": b"4", "evil\u202etxt.exe": b"5",
             "tab\there": b"6"}
    root = make_bag(tmp_path / "bag", files)
    found = read(root, tmp_path).findings
    assert {"NAME-E002", "NAME-W001", "NAME-W002"} <= codes(found)


def test_non_utf8_name_is_an_error(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    with open(os.path.join(os.fsencode(root / "data"), b"caf\xe9.txt"), "wb"):
        pass
    deposit = read(root, tmp_path)
    assert "NAME-E001" in codes(deposit.findings)
    for f in deposit.findings:
        f.path.encode("utf-8")  # findings stay printable/serialisable


def test_limits_on_names_and_depth(tmp_path):
    root = make_bag(tmp_path / "bag", {"a/b/c/d.txt": b"x", "x" * 20: b"y"})
    found = codes(read(root, tmp_path, Limits(max_depth=3, max_name_bytes=10)).findings)
    assert {"PAY-E002", "NAME-E003"} <= found


def test_bag_info_values_case_insensitive(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, bag_info=[("Contact-Name", "A"),
                                                       ("contact-name", "B")])
    assert read(root, tmp_path).bag_info_values("CONTACT-NAME") == ["A", "B"]


def test_garbage_in_manifest_is_error(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, tag_algorithms=())
    with open(root / "manifest-sha256.txt", "ab") as out:
        out.write(b"this is not a manifest line at all\n\x00\x00\n")
    assert {"MAN-E002", "BAG-E007"} <= codes(read(root, tmp_path).findings)
