"""Tag files with mis-declared encodings, byte-order marks, mixed line ends, folding, NUL
bytes (RFC 8493 sections 2.1, 2.1.1, 2.2.2)."""

from __future__ import annotations

from tests.adversarial.build import PAGE, bag, manifest_line, retag, rewrite
from tests.adversarial.harness import catalog_of
from tests.adversarial.registry import OK, REJECTED, WARNINGS, case

GROUP = "Tag files: encodings, line ends, folding, NUL bytes"

CYRILLIC_INFO = "Source-Organization: Milliy kutubxona\nTitle: Летопись\nPayload-Oxum: 9.1\n"


def _bagit_txt(data: bytes):
    return lambda ws: rewrite(bag(ws), "bagit.txt", data)


def _bag_info(data: bytes):
    return lambda ws: rewrite(bag(ws), "bag-info.txt", data)


def _declared(encoding: str, info: bytes):
    def build(ws):
        root = bag(ws)
        (root / "bagit.txt").write_bytes(
            f"BagIt-Version: 1.0\nTag-File-Character-Encoding: {encoding}\n".encode())
        return rewrite(root, "bag-info.txt", info)

    return build


case(id="encoding-misdeclared-utf8", group=GROUP,
     attack="bagit.txt declares UTF-8, bag-info.txt is Windows-1251 (Cyrillic)",
     build=_declared("UTF-8", CYRILLIC_INFO.encode("cp1251")), codes=("BAG-E006",),
     ingest_exit=REJECTED,
     guarantee="a tag file that does not decode as declared is a finding, never mojibake in "
               "the catalog")
case(id="encoding-misdeclared-utf16", group=GROUP,
     attack="bagit.txt declares UTF-16, the tag files are UTF-8",
     build=_declared("UTF-16", CYRILLIC_INFO.encode("utf-8") + b"\n"),
     codes=("BAG-W004", "BAG-E006"), ingest_exit=REJECTED,
     guarantee="the declared encoding is applied to every tag file; what does not decode is "
               "reported")
case(id="encoding-not-text", group=GROUP,
     attack="`Tag-File-Character-Encoding: base64` (a codec, but not a text encoding)",
     build=_declared("base64", CYRILLIC_INFO.encode()), codes=("BAG-E004",),
     ingest_exit=REJECTED,
     guarantee="only real text encodings are accepted; codec tricks are refused")
case(id="encoding-unknown", group=GROUP,
     attack="`Tag-File-Character-Encoding: klingon-8`",
     build=_declared("klingon-8", CYRILLIC_INFO.encode()), codes=("BAG-E004",),
     ingest_exit=REJECTED, guarantee="an unknown encoding is a finding, never a crash")
case(id="encoding-latin1-declared", group=GROUP,
     attack="bagit.txt truthfully declares ISO-8859-1 and bag-info.txt is Latin-1",
     build=_declared("ISO-8859-1", "Source-Organization: Bibliothèque\nPayload-Oxum: 9.1\n"
                     .encode("latin-1")),
     codes=("BAG-W004",), ingest_exit=WARNINGS,
     guarantee="a declared legacy encoding is honoured (with a warning recommending UTF-8)")

case(id="bom-bagit-txt", group=GROUP, attack="bagit.txt starts with a UTF-8 byte-order mark",
     build=_bagit_txt(b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"),
     codes=("BAG-E005",), ingest_exit=REJECTED,
     guarantee="the bag declaration must not carry a BOM (RFC 8493 2.1.1)")
case(id="bom-bag-info", group=GROUP, attack="bag-info.txt starts with a UTF-8 byte-order mark",
     build=_bag_info(b"\xef\xbb\xbf" + CYRILLIC_INFO.encode()), codes=("BAG-W001",),
     ingest_exit=WARNINGS,
     guarantee="the BOM is ignored with a warning; the first label is read correctly")


def _bom_manifest(ws):
    root = bag(ws)
    path = root / "manifest-sha256.txt"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return retag(root)


case(id="bom-manifest", group=GROUP, attack="manifest-sha256.txt starts with a byte-order mark",
     build=_bom_manifest, codes=("BAG-W001",), ingest_exit=WARNINGS,
     guarantee="the BOM does not become part of the first digest or path")


def _utf16_bom_bagit(ws):
    return rewrite(bag(ws), "bagit.txt",
                   "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".encode("utf-16"))


case(id="bom-utf16-bagit-txt", group=GROUP, attack="bagit.txt written in UTF-16 with its BOM",
     build=_utf16_bom_bagit, codes=("BAG-E002",), ingest_exit=REJECTED,
     guarantee="the declaration must be UTF-8; anything else is a finding")


def _mixed_line_ends(ws):
    root = bag(ws, {"page.txt": PAGE["page.txt"], "two.txt": b"two"})
    (root / "bag-info.txt").write_bytes(
        b"Source-Organization: Milliy kutubxona\r\nTitle: Mixed\rPayload-Oxum: 12.2\n")
    lines = (root / "manifest-sha256.txt").read_text().splitlines()
    (root / "manifest-sha256.txt").write_bytes((lines[0] + "\r\n" + lines[1] + "\r").encode())
    return retag(root)


case(id="line-ends-mixed", group=GROUP,
     attack="CRLF, CR and LF mixed within bag-info.txt and a manifest",
     build=_mixed_line_ends, codes=(), ingest_exit=OK,
     guarantee="every RFC 8493 line end is accepted; no line is merged or split wrongly")


def _folded(ws):
    return rewrite(bag(ws), "bag-info.txt", (
        b"Source-Organization: Milliy\n   kutubxona\nTitle: A title folded\n\tover three\n"
        b"  lines\nPayload-Oxum: 9.1\n"))


def _check_folded(ws, repo):
    with catalog_of(repo) as catalog:
        [package] = catalog.list_packages()
    assert package.title == "A title folded over three lines"


case(id="bag-info-folded", group=GROUP,
     attack="bag-info.txt values folded over continuation lines (spaces and tabs)",
     build=_folded, codes=(), ingest_exit=OK, check=_check_folded,
     guarantee="continuation lines are unfolded into one value (RFC 8493 2.2.2)")
case(id="bag-info-fold-first-line", group=GROUP,
     attack="bag-info.txt starts with a continuation line (no label to continue)",
     build=_bag_info(b"  orphan continuation\nPayload-Oxum: 9.1\n"), codes=("BAG-E008",),
     ingest_exit=REJECTED, guarantee="a continuation without a label is a finding")
case(id="bag-info-no-colon", group=GROUP, attack="a bag-info.txt line without a colon",
     build=_bag_info(b"Source-Organization Milliy kutubxona\nPayload-Oxum: 9.1\n"),
     codes=("BAG-E008",), ingest_exit=REJECTED, guarantee="malformed elements are findings")

case(id="nul-bag-info", group=GROUP, attack="a NUL byte inside a bag-info.txt value",
     build=_bag_info(b"Source-Organization: Milliy\x00kutubxona\nPayload-Oxum: 9.1\n"),
     codes=("BAG-E007",), ingest_exit=REJECTED,
     guarantee="NUL bytes in tag files are findings; they never reach the catalog")
case(id="nul-bagit-txt", group=GROUP, attack="a NUL byte in bagit.txt",
     build=_bagit_txt(b"BagIt-Version: 1.0\x00\nTag-File-Character-Encoding: UTF-8\n"),
     codes=("BAG-E002",), ingest_exit=REJECTED, guarantee="the declaration is checked strictly")


def _nul_manifest(ws):
    root = bag(ws)
    (root / "manifest-sha256.txt").write_text(
        manifest_line("data/page.txt", PAGE["page.txt"]).replace("data/", "data/\x00"))
    return retag(root)


case(id="nul-manifest", group=GROUP, attack="a NUL byte in a manifest path",
     build=_nul_manifest, codes=("BAG-E007",), ingest_exit=REJECTED,
     guarantee="a NUL never reaches a file system call")


def _bagit_version(ws):
    return rewrite(bag(ws), "bagit.txt",
                   b"BagIt-Version: 99.0\nTag-File-Character-Encoding: UTF-8\n")


case(id="bagit-version-unknown", group=GROUP, attack="`BagIt-Version: 99.0`",
     build=_bagit_version, codes=("BAG-E003",), ingest_exit=REJECTED,
     guarantee="only BagIt 1.0 and 0.97 are read")


def _fetch(ws):
    root = bag(ws)
    (root / "fetch.txt").write_text(f"{ws.url} 9 data/fetched.txt\n"
                                    f"file://{ws.secret_file} - data/secret.txt\n")
    (root / "manifest-sha256.txt").write_text(
        manifest_line("data/page.txt", PAGE["page.txt"])
        + manifest_line("data/fetched.txt", b"x") + manifest_line("data/secret.txt", b"x"))
    (root / "manifest-sha512.txt").write_text(
        manifest_line("data/page.txt", PAGE["page.txt"], "sha512")
        + manifest_line("data/fetched.txt", b"x", "sha512")
        + manifest_line("data/secret.txt", b"x", "sha512"))
    return retag(root)


case(id="fetch-txt", group=GROUP,
     attack="fetch.txt names an http URL (the local listener) and a file:// URL of the "
            "sentinel file",
     build=_fetch, codes=("BAG-E014",), ingest_exit=REJECTED,
     guarantee="preserve never fetches: the bag is incomplete, no connection is made and "
               "no file is read")
case(id="bagit-txt-empty", group=GROUP, attack="bagit.txt is 0 bytes",
     build=_bagit_txt(b""), codes=("BAG-E002",), ingest_exit=REJECTED,
     guarantee="an empty declaration is a finding")
