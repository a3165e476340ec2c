"""Codes not covered elsewhere: unlisted tag files, unsupported zip compression."""

from __future__ import annotations

import zipfile

from preserve.deposit import open_deposit

from .bags import MULTILINGUAL, codes, make_bag


def test_tag_file_missing_from_tag_manifest_is_a_warning(tmp_path):
    bag = make_bag(tmp_path / "bag", MULTILINGUAL)
    (bag / "notes.txt").write_text("added after the tag manifest\n", encoding="utf-8")
    deposit = open_deposit(bag, tmp_path / "work")
    assert "MAN-W002" in codes(deposit.findings)
    assert not any(f.severity.value == "error" for f in deposit.findings)


def test_unsupported_zip_compression_method(tmp_path):
    bag = make_bag(tmp_path / "bag", {"a.txt": b"abc"})
    archive = tmp_path / "bag.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(bag).as_posix())
    raw = bytearray(archive.read_bytes())
    # Patch the method field (9 = Deflate64, which zipfile cannot read) in every local header
    # (offset 8) and central directory record (offset 10).
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            raw[start + offset:start + offset + 2] = (9).to_bytes(2, "little")
            start += 4
    archive.write_bytes(bytes(raw))
    deposit = open_deposit(archive, tmp_path / "work")
    assert "SER-E010" in codes(deposit.findings)
    assert list((tmp_path / "work").iterdir()) == []
