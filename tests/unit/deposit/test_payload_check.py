"""check_payload: digests against every manifest, Payload-Oxum, tag manifests (RFC 8493 3)."""

from __future__ import annotations

import os

from preserve.deposit import check_payload, open_deposit, required_algorithms
from preserve.model import PayloadFile

from .bags import MULTILINGUAL, all_findings, codes, compute, make_bag

FILES = {"a.txt": b"hello\n", "b/c.txt": b"ccc", **MULTILINGUAL}


def test_required_algorithms(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=("md5", "sha512"))
    deposit = open_deposit(root, tmp_path / "work")
    assert required_algorithms(deposit) == {"md5", "sha256", "sha512"}


def test_flipped_byte_in_every_manifest(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=("sha256", "sha512"))
    (root / "data" / "a.txt").write_bytes(b"hellO\n")
    found = all_findings(open_deposit(root, tmp_path / "work"))
    mismatches = [f for f in found if f.code == "MAN-E010"]
    assert {f.path for f in mismatches} == {"data/a.txt"}
    assert len(mismatches) == 2  # once per manifest


def test_damaged_multilingual_name_is_reported_by_its_name(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    (root / "data" / "نسخه خطی" / "صفحه ۱.txt").write_bytes(b"FA\n")
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert [f.path for f in found if f.code == "MAN-E010"] == ["data/نسخه خطی/صفحه ۱.txt"]


def test_tag_file_changed(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    with open(root / "bag-info.txt", "a", encoding="utf-8") as out:
        out.write("Contact-Name: Changed\n")
    found = all_findings(open_deposit(root, tmp_path / "work"))
    assert [f.path for f in found if f.code == "MAN-E010"] == ["bag-info.txt"]


def test_tag_file_swapped_for_fifo_after_listing_does_not_hang(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    deposit = open_deposit(root, tmp_path / "work")
    computed = compute(deposit)
    (root / "bag-info.txt").unlink()
    os.mkfifo(root / "bag-info.txt")
    assert "BAG-E015" in codes(check_payload(deposit, computed))


def test_sizes_changed_while_reading_and_oxum(tmp_path):
    root = make_bag(tmp_path / "bag", FILES)
    deposit = open_deposit(root, tmp_path / "work")
    computed = compute(deposit)
    first = deposit.payload[0].path
    computed[first] = PayloadFile(first, computed[first].size + 1, computed[first].digests)
    assert {"MAN-E012", "BAG-E010"} <= codes(check_payload(deposit, computed))


def test_missing_digest_or_file_in_computed(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=("sha256", "md5"))
    deposit = open_deposit(root, tmp_path / "work")
    computed = compute(deposit)
    first = deposit.payload[0].path
    computed[first] = PayloadFile(first, computed[first].size, {"sha256": "0" * 64})
    del computed[deposit.payload[1].path]
    found = check_payload(deposit, computed)
    assert "MAN-E011" in codes(found)
    messages = " ".join(f.message for f in found if f.code == "MAN-E011")
    assert "lacks a md5 digest" in messages and "was not read" in messages
    assert "a any" not in messages  # issue 18: the message glitch


def test_valid_bag_has_no_payload_findings(tmp_path):
    root = make_bag(tmp_path / "bag", FILES, algorithms=("sha512",), tag_algorithms=("sha512",
                                                                                       "md5"))
    deposit = open_deposit(root, tmp_path / "work")
    assert check_payload(deposit, compute(deposit)) == []


def test_open_regular_refuses_fifo_and_symlink(tmp_path):
    import pytest

    from preserve.deposit import open_regular
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "file").write_bytes(b"abc")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    for name in ("fifo", "link"):
        with pytest.raises(OSError):
            open_regular(tmp_path / name)
    fd = open_regular(tmp_path / "file")
    with open(fd, "rb") as handle:
        assert handle.read() == b"abc"
