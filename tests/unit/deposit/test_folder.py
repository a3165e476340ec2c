"""Plain folder deposits: every regular file is payload; same file-type and name checks."""

from __future__ import annotations

import os
import unicodedata

from preserve.deposit import DepositKind, Limits, check_payload, open_deposit

from .bags import MULTILINGUAL, codes, compute, write_files


def test_folder_lists_every_regular_file(tmp_path):
    files = {"bagit-like.txt": b"x", "sub/0.bin": b"", **MULTILINGUAL}
    write_files(tmp_path / "folder", files)
    deposit = open_deposit(tmp_path / "folder", tmp_path / "work")
    assert deposit.kind is DepositKind.FOLDER
    assert deposit.bagit_version is None
    assert deposit.findings == ()
    assert deposit.tag_files == () and dict(deposit.manifests) == {}
    assert [p.path for p in deposit.payload] == sorted(files)
    assert check_payload(deposit, compute(deposit)) == []


def test_folder_special_files_and_names(tmp_path):
    folder = tmp_path / "folder"
    write_files(folder, {unicodedata.normalize("NFC", "ё"): b"1",
                         unicodedata.normalize("NFD", "ё"): b"2", "A": b"3", "a": b"4",
                         "x\u202ey": b"5"})
    os.mkfifo(folder / "pipe")
    (folder / "link").symlink_to(folder / "A")
    (folder / "dirlink").symlink_to(tmp_path)
    deposit = open_deposit(folder, tmp_path / "work")
    assert {"PAY-E001", "NAME-E002", "NAME-W001", "NAME-W002"} <= codes(deposit.findings)
    assert {"pipe", "link", "dirlink"}.isdisjoint(p.path for p in deposit.payload)


def test_empty_folder(tmp_path):
    (tmp_path / "folder").mkdir()
    assert codes(open_deposit(tmp_path / "folder", tmp_path / "w").findings) == {"PAY-W001"}


def test_folder_limits(tmp_path):
    write_files(tmp_path / "folder", {f"f{i}": b"" for i in range(10)})
    deposit = open_deposit(tmp_path / "folder", tmp_path / "w", Limits(max_members=5))
    assert "PAY-E004" in codes(deposit.findings)


def test_unreadable_directory(tmp_path):
    write_files(tmp_path / "folder", {"locked/x": b"x"})
    os.chmod(tmp_path / "folder" / "locked", 0)
    try:
        deposit = open_deposit(tmp_path / "folder", tmp_path / "w")
    finally:
        os.chmod(tmp_path / "folder" / "locked", 0o755)
    if os.geteuid() != 0:  # root reads everything
        assert "PAY-E003" in codes(deposit.findings)


def test_fifo_named_as_deposit_is_not_opened(tmp_path):
    os.mkfifo(tmp_path / "deposit.tar")
    assert codes(open_deposit(tmp_path / "deposit.tar", tmp_path / "w").findings) == {"BAG-E012"}
