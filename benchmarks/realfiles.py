"""Small real files of the formats archives deposit, for the `many-small-real` corpus (issue 17).

Random bytes are siegfried's worst case: with no signature matching at the start, it scans
the whole file for end-of-file and variable-position signatures. Digitised collections hold
real formats, so this corpus gives each file a real structure, whole and well formed, of
about the planned size:

- `.tif`: TIFF 6.0 baseline, little-endian, one strip of uncompressed 8-bit grey (TIFF 6.0
  section 2 and 4: header, one IFD with the required fields, resolution rationals);
- `.jpg`: JPEG/JFIF 1.02 (ITU T.81 annex B markers: SOI, APP0 "JFIF", DQT, SOF0, DHT, SOS,
  entropy-coded bytes with 0xFF stuffed, EOI);
- `.png`: PNG (RFC 2083 / ISO 15948: signature, IHDR, one zlib IDAT of filtered rows, IEND,
  every chunk with its CRC-32);
- `.pdf`: PDF 1.4 with one page of text, its cross-reference table and trailer
  (ISO 32000-1 section 7.5);
- `.xml`: a UTF-8 XML document with its declaration, text in Cyrillic, Arabic and Latin;
- `.txt`: plain text in UTF-8, UTF-16 with its byte order mark, Windows-1251 (Russian) or
  Windows-1256 (Arabic), in turn.

Image samples are seeded random bytes (incompressible, as scans nearly are); everything is a
function of the given `random.Random`, so a seed gives the same bytes everywhere.
"""

from __future__ import annotations

import random
import struct
import zlib

_RUSSIAN = ("рукопись", "летопись", "история", "книга", "письмо", "стихи", "собрание",
            "библиотека", "архив", "грамота")
_ARABIC = ("كتاب", "تاريخ", "رسالة", "مجموعة", "ديوان", "قلم", "مكتوب", "غزل")
_UZBEK = ("qoʻlyozma", "Oʻzbekiston", "gʻazal", "tarix", "sheʼr", "maktub", "devon", "bayoz",
          "қўлёзма", "Ўзбекистон", "тарих", "мактуб")
_LATIN = ("manuscript", "chronicle", "collection", "library", "archive", "folio", "leaf",
          "binding", "ink", "margin")


def make(suffix: str, size: int, rng: random.Random) -> bytes:
    """A real file of the format `suffix` names, of about `size` bytes."""
    return _MAKERS[suffix](size, rng)


def _words(rng: random.Random, vocabulary: tuple[str, ...], size: int, encoding: str) -> str:
    """Lines of words from `vocabulary` whose encoded length reaches about `size`."""
    lines, total = [], 0
    while total < size:
        line = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 12))) + "\n"
        lines.append(line)
        total += len(line.encode(encoding))
    return "".join(lines)


def tiff(size: int, rng: random.Random) -> bytes:
    width = 256
    # header 8 + IFD (2 + 11 entries of 12 + next-IFD offset 4) + two rationals of 8
    pixels_at = 8 + 2 + 11 * 12 + 4 + 16
    height = max(1, (size - pixels_at) // width)
    count = width * height
    x_res_at = 8 + 2 + 11 * 12 + 4
    entries = [  # (tag, type, count, value): types 3 SHORT, 4 LONG, 5 RATIONAL
        (256, 3, 1, width), (257, 3, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
        (262, 3, 1, 1), (273, 4, 1, pixels_at), (277, 3, 1, 1), (278, 3, 1, height),
        (279, 4, 1, count), (282, 5, 1, x_res_at), (283, 5, 1, x_res_at + 8),
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, n, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, n) + packed
    ifd += struct.pack("<I", 0)
    rationals = struct.pack("<IIII", 300, 1, 300, 1)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + rationals + rng.randbytes(count)


def jpeg(size: int, rng: random.Random) -> bytes:
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    width, height = 512, 512
    app0 = segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x48\x00\x48\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes(rng.randint(1, 50) for _ in range(64)))
    sof0 = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    # A Huffman table (class 0, id 0): 16 code-length counts, then the symbols.
    dht = segment(0xC4, b"\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1] + [0] * 7)
                  + bytes(range(12)))
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    head = b"\xff\xd8" + app0 + dqt + sof0 + dht + sos
    # Entropy-coded data: any byte but 0xFF, which is stuffed with 0x00 (T.81 B.1.1.5).
    body = rng.randbytes(max(16, size - len(head) - 2)).replace(b"\xff", b"\xff\x00")
    return head + body + b"\xff\xd9"


def png(size: int, rng: random.Random) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    width = 128
    height = max(1, (size - 80) // (width + 1))
    rows = b"".join(b"\x00" + rng.randbytes(width) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 1))
            + chunk(b"IEND", b""))


def pdf(size: int, rng: random.Random) -> bytes:
    text = _words(rng, _LATIN, max(200, size - 700), "ascii").splitlines()
    content = "BT /F1 10 Tf 12 TL 40 800 Td\n" + "".join(
        f"({line}) '\n" for line in text) + "ET\n"
    stream = content.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref_at}\n%%EOF\n").encode()
    return bytes(out)


def xml(size: int, rng: random.Random) -> bytes:
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<collection xmlns="urn:example:manuscripts">\n')
    items = []
    total = len(head.encode())
    n = 0
    while total < size - 20:
        n += 1
        language = ("uz", "ar", "ru")[n % 3]
        vocabulary = {"uz": _UZBEK, "ar": _ARABIC, "ru": _RUSSIAN}[language]
        words = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 10)))
        item = (f'  <item n="{n}" xml:lang="{language}"><title>{words}</title>'
                f"<folios>{rng.randint(1, 400)}</folios></item>\n")
        items.append(item)
        total += len(item.encode())
    return (head + "".join(items) + "</collection>\n").encode("utf-8")


def text(size: int, rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return _words(rng, _UZBEK + _RUSSIAN, size, "utf-8").encode("utf-8")
    if kind == 1:  # 2 bytes per character, after the byte order mark
        return _words(rng, _UZBEK, size, "utf-16-le").encode("utf-16")
    if kind == 2:
        return _words(rng, _RUSSIAN, size, "cp1251").encode("cp1251")
    return _words(rng, _ARABIC, size, "cp1256").encode("cp1256")


_MAKERS = {".tif": tiff, ".jpg": jpeg, ".png": png, ".pdf": pdf, ".xml": xml, ".txt": text}
