"""Zip and tar deposits: every member inspected before anything is written (RFC 8493 4.2, 7.2).

Each rejection asserts the code, that work_dir is left empty, and that nothing appeared
outside it.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import bagit
import pytest

from preserve.deposit import DepositKind, Limits, WorkDirNotEmpty, open_deposit

from .bags import MULTILINGUAL, all_findings, codes, make_bag

FILES = {"a.txt": b"hello\n", "dir/b.txt": b"b", **MULTILINGUAL}


def bag_members(tmp_path: Path, prefix: str = "") -> list[tuple[str, bytes]]:
    """A valid bag's files as (archive name, bytes)."""
    root = make_bag(tmp_path / "src" / "bag", FILES, algorithms=("sha256", "sha512"))
    return [(prefix + p.relative_to(root).as_posix(), p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()]


def write_zip(path: Path, members, extra: list[zipfile.ZipInfo | tuple] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
        for item in extra:
            info, data = item if isinstance(item, tuple) else (item, b"x")
            archive.writestr(info, data)
    return path


def write_tar(path: Path, members, extra: list[tarfile.TarInfo] = (), mode: str = "w") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in extra:
            archive.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return path


def open_checked(tmp_path: Path, archive: Path, limits: Limits = Limits(), work: str = "work"):
    """open_deposit, then assert nothing was written outside work_dir."""
    before = {p for p in tmp_path.rglob("*") if work not in p.parts}
    deposit = open_deposit(archive, tmp_path / work, limits)
    after = {p for p in tmp_path.rglob("*") if work not in p.parts}
    assert after == before
    return deposit


def assert_rejected(tmp_path: Path, archive: Path, code: str, limits: Limits = Limits()):
    deposit = open_checked(tmp_path, archive, limits)
    assert code in codes(deposit.findings)
    assert list((tmp_path / "work").iterdir()) == []
    assert deposit.payload == ()


@pytest.mark.parametrize("prefix", ["", "my bag/", "./"])
def test_valid_zip(tmp_path, prefix):
    archive = write_zip(tmp_path / "deposit.zip", bag_members(tmp_path, prefix))
    deposit = open_checked(tmp_path, archive)
    assert deposit.kind is DepositKind.ZIP
    assert all_findings(deposit) == []
    assert {p.path for p in deposit.payload} == set(FILES)
    assert set(deposit.manifests["sha512"]) == set(FILES)
    bagit.Bag(str(deposit.root)).validate()


@pytest.mark.parametrize("mode, suffix", [("w", ".tar"), ("w:gz", ".tar.gz"), ("w:gz", ".tgz"),
                                          ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz")])
def test_valid_tar(tmp_path, mode, suffix):
    archive = write_tar(tmp_path / f"deposit{suffix}", bag_members(tmp_path, "bag/"), mode=mode)
    deposit = open_checked(tmp_path, archive)
    assert deposit.kind is DepositKind.TAR
    assert all_findings(deposit) == []
    assert {p.path for p in deposit.payload} == set(FILES)
    assert deposit.root == tmp_path / "work" / "bag"
    bagit.Bag(str(deposit.root)).validate()


def test_detected_by_content_not_suffix(tmp_path):
    archive = write_zip(tmp_path / "deposit.tar", bag_members(tmp_path))
    assert open_checked(tmp_path, archive).kind is DepositKind.ZIP
    archive = write_tar(tmp_path / "deposit.zip", bag_members(tmp_path), mode="w:gz")
    assert open_checked(tmp_path, archive, work="work2").kind is DepositKind.TAR


def test_not_an_archive(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    deposit = open_checked(tmp_path, tmp_path / "notes.txt")
    assert codes(deposit.findings) == {"BAG-E012"}


def test_missing_path(tmp_path):
    deposit = open_deposit(tmp_path / "nowhere", tmp_path / "work")
    assert codes(deposit.findings) == {"BAG-E012"}


def test_corrupt_archives(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert_rejected(tmp_path, tmp_path / "bad.zip", "SER-E001")
    (tmp_path / "bad.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert_rejected(tmp_path, tmp_path / "bad.tar.gz", "SER-E001")


def test_work_dir_must_be_empty(tmp_path):
    archive = write_zip(tmp_path / "deposit.zip", bag_members(tmp_path))
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "x").write_text("x")
    with pytest.raises(WorkDirNotEmpty):
        open_deposit(archive, tmp_path / "work")


@pytest.mark.parametrize("name, code", [
    ("../x", "SER-E002"), ("bag/../../x", "SER-E002"), ("/abs/x", "SER-E002"),
    ("C:/x", "SER-E002"), ("data\\..\\..\\x", "SER-E002"),
])
def test_zip_unsafe_names(tmp_path, name, code):
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path), [zipfile.ZipInfo(name)])
    assert_rejected(tmp_path, archive, code)


def test_zip_nul_in_name(tmp_path):
    """zipfile silently cuts names at NUL; we look at the original name."""
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path),
                        [zipfile.ZipInfo("data/evilXtxt")])
    raw = archive.read_bytes().replace(b"data/evilXtxt", b"data/evil\x00txt")
    archive.write_bytes(raw)
    assert_rejected(tmp_path, archive, "SER-E005")


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_zip_symlink_and_duplicates(tmp_path):
    link = zipfile.ZipInfo("data/link")
    link.create_system = 3
    link.external_attr = (0o120777 << 16)
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path), [(link, b"/etc/passwd")])
    assert_rejected(tmp_path, archive, "SER-E003")

    archive = write_zip(tmp_path / "d2.zip", bag_members(tmp_path),
                        [zipfile.ZipInfo("data/a.txt"), zipfile.ZipInfo("./data/dir/b.txt")])
    assert_rejected(tmp_path, archive, "SER-E004")


def test_zip_file_and_directory_clash(tmp_path):
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path),
                        [zipfile.ZipInfo("data/a.txt/inner")])
    assert_rejected(tmp_path, archive, "SER-E004")


def test_zip_ratio_bomb(tmp_path):
    bomb = zipfile.ZipInfo("data/zeros.bin")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path), [(bomb, b"\0" * (2 << 20))])
    assert_rejected(tmp_path, archive, "SER-E007", Limits(max_ratio=10))


def test_zip_total_size_and_member_count(tmp_path):
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path))
    assert_rejected(tmp_path, archive, "SER-E007", Limits(max_total_size=100))
    assert_rejected(tmp_path, archive, "SER-E007", Limits(max_members=3))


def patch_zip_flags(archive: Path, name: str, set_bits: int = 0, clear_bits: int = 0) -> None:
    """Change the general-purpose flags of member `name` in both of its headers."""
    data = bytearray(archive.read_bytes())
    raw = name.encode("utf-8")
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = 0
        while (pos := data.find(signature, pos)) >= 0:
            if data[pos + name_at:pos + name_at + len(raw)] == raw:
                flags = int.from_bytes(data[pos + flag_at:pos + flag_at + 2], "little")
                flags = (flags | set_bits) & ~clear_bits
                data[pos + flag_at:pos + flag_at + 2] = flags.to_bytes(2, "little")
            pos += 4
    archive.write_bytes(bytes(data))


def test_zip_encrypted_member(tmp_path):
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path), [zipfile.ZipInfo("data/secret")])
    patch_zip_flags(archive, "data/secret", set_bits=0x1)
    assert_rejected(tmp_path, archive, "SER-E006")


def test_zip_utf8_name_without_flag(tmp_path):
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path))
    patch_zip_flags(archive, "data/Ўзбекистон тарихи.txt", clear_bits=0x800)
    deposit = open_checked(tmp_path, archive)
    assert "SER-W001" in codes(deposit.findings)
    assert "Ўзбекистон тарихи.txt" in {p.path for p in deposit.payload}
    assert all_findings(deposit) and not any(f.severity.value == "error"
                                             for f in all_findings(deposit))


@pytest.mark.parametrize("kind, code", [
    (tarfile.SYMTYPE, "SER-E003"), (tarfile.LNKTYPE, "SER-E003"), (tarfile.CHRTYPE, "SER-E003"),
    (tarfile.BLKTYPE, "SER-E003"), (tarfile.FIFOTYPE, "SER-E003"),
])
def test_tar_special_members(tmp_path, kind, code):
    info = tarfile.TarInfo("bag/data/special")
    info.type = kind
    info.linkname = "../../../etc/passwd"
    archive = write_tar(tmp_path / "d.tar", bag_members(tmp_path, "bag/"), [info])
    assert_rejected(tmp_path, archive, code)


@pytest.mark.parametrize("name, code", [
    ("../x", "SER-E002"), ("bag/data/../../../x", "SER-E002"), ("/etc/x", "SER-E002"),
    ("bag/data/a\\b", "SER-E002"),
    ("bag/data/a.txt", "SER-E004"), ("./bag/data/a.txt", "SER-E004"),
    ("bag//data/./a.txt", "SER-E004"),
])
def test_tar_bad_names(tmp_path, name, code):
    info = tarfile.TarInfo(name)
    info.size = 1
    archive = write_tar(tmp_path / "d.tar", bag_members(tmp_path, "bag/"), [info])
    assert_rejected(tmp_path, archive, code)


def test_tar_non_utf8_name(tmp_path):
    info = tarfile.TarInfo("bag/data/caf\udce9")
    info.size = 1
    path = tmp_path / "d.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as archive:
        archive.addfile(info, io.BytesIO(b"x"))
    assert_rejected(tmp_path, path, "NAME-E001")


def test_tar_gz_bomb(tmp_path):
    members = [*bag_members(tmp_path, "bag/"), ("bag/data/zeros.bin", b"\0" * (4 << 20))]
    archive = write_tar(tmp_path / "d.tar.gz", members, mode="w:gz")
    assert_rejected(tmp_path, archive, "SER-E007", Limits(max_ratio=10))
    assert_rejected(tmp_path, archive, "SER-E007", Limits(max_total_size=1 << 20))


def test_tar_of_a_plain_folder_is_read_as_the_folder(tmp_path):
    """Issue 11 section 6: no bag inside is not SER-E008 any more but a plain folder."""
    archive = write_tar(tmp_path / "d.tar", [("a/x.txt", b"x"), ("b/y.txt", b"y")])
    deposit = open_checked(tmp_path, archive, Limits())
    assert deposit.kind is DepositKind.FOLDER and not codes(deposit.findings)
    assert sorted(f.path for f in deposit.payload) == ["a/x.txt", "b/y.txt"]


def test_zip_of_one_plain_folder_is_read_as_that_folder(tmp_path):
    archive = write_zip(tmp_path / "d.zip", [("scans/", b""), ("scans/p 1.txt", b"1"),
                                             ("scans/sub/p2.txt", b"2")])
    deposit = open_checked(tmp_path, archive, Limits())
    assert deposit.kind is DepositKind.FOLDER
    assert sorted(f.path for f in deposit.payload) == ["p 1.txt", "sub/p2.txt"]


@pytest.mark.parametrize("members", [
    [("a/x.txt", b"x"), ("b/bag/bagit.txt", b"BagIt-Version: 1.0\n")],  # a bag, too deep
    [("a/", b""), ("b/", b"")],  # no file at all
])
def test_archive_without_a_clear_deposit(tmp_path, members):
    assert_rejected(tmp_path, write_zip(tmp_path / "d.zip", members), "SER-E008")


def test_tar_truncated(tmp_path):
    archive = write_tar(tmp_path / "d.tar", bag_members(tmp_path, "bag/"))
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2 + 100])
    assert_rejected(tmp_path, archive, "SER-E001")


def test_archive_depth_and_name_limits(tmp_path):
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path, "bag/"))
    assert_rejected(tmp_path, archive, "PAY-E002", Limits(max_depth=3))
    assert_rejected(tmp_path, archive, "NAME-E003", Limits(max_name_bytes=20))


def test_failure_while_extracting_leaves_work_dir_empty(tmp_path):
    """The central directory passes inspection; a local header lies: found while writing."""
    archive = write_zip(tmp_path / "d.zip", bag_members(tmp_path))
    data = archive.read_bytes()
    at = data.index(b"data/dir/b.txt")  # local headers come before the central directory
    archive.write_bytes(data[:at] + b"data/dir/X.txt" + data[at + 14:])
    assert_rejected(tmp_path, archive, "SER-E009")
