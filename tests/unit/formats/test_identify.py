"""PRONOM identification through siegfried (preserve.formats) on real files built here."""

from __future__ import annotations

import struct
import zlib

import pytest

from preserve.formats import FormatIdentifier, FormatInfo


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def _pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def _tiff() -> bytes:
    # Little-endian baseline TIFF, one 1x1 8-bit grey pixel.
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1),
               (278, 3, 1, 1), (279, 4, 1, 1)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) for tag, kind, count, value in entries)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x00"


@pytest.fixture(scope="module")
def identifier() -> FormatIdentifier:
    return FormatIdentifier(workers=2)


def test_identifies_png_pdf_tiff_and_text_in_one_batch(tmp_path, identifier):
    files = {"kartinka.png": _png(), "hujjat.pdf": _pdf(), "varaq.tif": _tiff(),
             "matn.txt": "Qoʻlyozma — қўлёзма — دستنویس\n".encode() * 20}
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    found = identifier.identify_many(paths)
    assert set(found) == set(paths)
    png, pdf, tif, txt = (found[tmp_path / n] for n in files)
    assert png.puid and png.puid.startswith("fmt/") and png.mime == "image/png"
    assert "Portable Network Graphics" in png.name
    assert pdf.puid and pdf.puid.startswith("fmt/") and pdf.mime == "application/pdf"
    assert tif.puid and "TIFF" in tif.name.upper() or "Tagged Image" in tif.name
    assert txt.puid == "x-fmt/111" and txt.mime.startswith("text/plain")
    assert all(isinstance(info, FormatInfo) for info in found.values())
    assert identifier.tool.startswith("siegfried ")


def test_unknown_and_empty_files_are_answers_not_errors(tmp_path, identifier):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "noise").write_bytes(bytes(range(256)) * 3)
    single = identifier.identify(tmp_path / "empty")
    assert single.puid is None and not single.known and "empty" in single.warning
    many = identifier.identify_many([tmp_path / "noise", tmp_path / "missing.bin"])
    assert many[tmp_path / "noise"].puid is None
    assert many[tmp_path / "missing.bin"].puid is None
    assert identifier.identify_many([]) == {}


def _mixed_files(tmp_path, count):
    makers = [_png, _pdf, _tiff, lambda: "Qoʻlyozma — қўлёзма — دستنویس\n".encode() * 20,
              lambda: bytes(range(256)) * 3, lambda: b""]
    paths = []
    for i in range(count):
        path = tmp_path / f"fayl-{i:03d}-ҳужжат"
        path.write_bytes(makers[i % len(makers)]())
        paths.append(path)
    return paths + [tmp_path / "missing.bin"]


def test_helper_processes_and_batches_give_the_same_answers(tmp_path, monkeypatch):
    from preserve.formats import identify

    paths = _mixed_files(tmp_path, 24)
    alone = FormatIdentifier(workers=1).identify_many(paths)
    monkeypatch.setattr(identify, "PARALLEL_MIN", 2)
    monkeypatch.setattr(identify, "BATCH", 5)
    shared = FormatIdentifier(workers=3).identify_many(paths)
    assert list(shared) == paths  # in the order given
    assert shared == alone
    assert {info.puid for info in shared.values()} >= {"x-fmt/111", None}


def test_a_helper_that_cannot_start_leaves_its_share_here(tmp_path, monkeypatch, caplog):
    from preserve.formats import identify

    paths = _mixed_files(tmp_path, 12)
    alone = FormatIdentifier(workers=1).identify_many(paths)
    monkeypatch.setattr(identify, "PARALLEL_MIN", 2)
    monkeypatch.setattr(identify.sys, "executable", str(tmp_path / "no-such-python"))
    assert FormatIdentifier(workers=2).identify_many(paths) == alone
    monkeypatch.setattr(identify.sys, "executable", "/bin/false")  # starts, then fails
    with caplog.at_level("WARNING", logger="preserve.formats.identify"):
        assert FormatIdentifier(workers=2).identify_many(paths) == alone
    assert "helper failed" in caplog.text
