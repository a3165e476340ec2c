"""File names: control and bidi characters, normalization and case collisions, 255-byte names,
very deep trees, names that are not UTF-8 (DESIGN.md "Metadata": names kept as deposited)."""

from __future__ import annotations

import os
import unicodedata

from tests.adversarial.build import PAGE, bag, folder
from tests.adversarial.harness import catalog_of
from tests.adversarial.registry import OK, REJECTED, WARNINGS, case

GROUP = "File names and trees"

ESCAPE_NAME = "report\x1b[2J\x1b[31m.txt"
NEWLINE_NAME = "two\nlines.txt"
BIDI_NAME = "invoice\u202etxt.exe"
C1_NAME = "c1\u0085\u009b31m.txt"


def _named(name: str):
    return lambda ws: bag(ws, {name: b"payload\n", **PAGE})


def _others_identified(ws, repo):
    """The hostile name does not cost its neighbours their PRONOM format."""
    with catalog_of(repo) as catalog:
        [summary] = catalog.list_packages()
        files = catalog.get_package(summary.package_id).files
    assert {f.path: f.format for f in files}["data/page.txt"] == "x-fmt/111"


case(id="name-terminal-escape", group=GROUP,
     attack="a payload name holding ESC sequences that would clear and recolour a terminal",
     build=_named(ESCAPE_NAME), codes=("NAME-W002",), ingest_exit=WARNINGS,
     names=(ESCAPE_NAME,), check=_others_identified,
     guarantee="kept byte-exact, warned about, and printed escaped (`\\x1b`) in text and JSON; "
               "the other files are still format-identified")
case(id="name-newline", group=GROUP, attack="a payload name with a line feed in it",
     build=_named(NEWLINE_NAME), codes=("NAME-W002",), ingest_exit=WARNINGS,
     names=(NEWLINE_NAME,),
     guarantee="the manifest carries it as `%0A`; output never splits a finding over two lines")
case(id="name-bidi-override", group=GROUP,
     attack="a name with RIGHT-TO-LEFT OVERRIDE (U+202E) disguising `.exe` as `.txt`",
     build=_named(BIDI_NAME), codes=("NAME-W002",), ingest_exit=WARNINGS, names=(BIDI_NAME,),
     guarantee="bidi controls are printed as `\\u202e`, so the real name is visible")
case(id="name-c1-controls", group=GROUP,
     attack="a name with C1 controls (NEL U+0085, CSI U+009B)",
     build=_named(C1_NAME), codes=("NAME-W002",), ingest_exit=WARNINGS, names=(C1_NAME,),
     guarantee="C1 controls are escaped like C0 ones")


def _deposit_named(ws):
    root = ws.deposits / "bag\x1b]0;pwned\x07\u202e"
    return bag(ws, name=root.name)


case(id="deposit-name-escape", group=GROUP,
     attack="the deposit directory's own name holds an OSC terminal-title sequence and a "
            "bidi override",
     build=_deposit_named, codes=(), ingest_exit=OK, names=("bag\x1b]0;pwned\x07\u202e",),
     guarantee="the deposit path is printed escaped in every message too")


def _non_utf8(ws):
    root = bag(ws)
    name = os.fsencode(root / "data") + b"/caf\xe9.txt"  # Latin-1 bytes
    with open(name, "wb") as handle:
        handle.write(b"x")
    return root


case(id="name-not-utf8", group=GROUP, attack="a payload name that is Latin-1 bytes, not UTF-8",
     build=_non_utf8, codes=("NAME-E001",), ingest_exit=REJECTED,
     names=("caf\udce9.txt",),
     guarantee="a name that cannot be stored or exchanged as UTF-8 is refused, shown as `\\xe9`")

_NFC = unicodedata.normalize("NFC", "Qoʻlyozma-café.txt")
_NFD = unicodedata.normalize("NFD", _NFC)


def _nfc_nfd(ws):
    return bag(ws, {_NFC: b"composed", _NFD: b"decomposed"})


case(id="names-nfc-nfd", group=GROUP,
     attack="two payload files whose names differ only in Unicode normalization (NFC/NFD)",
     build=_nfc_nfd, codes=("NAME-E002",), ingest_exit=REJECTED,
     guarantee="names that become one on macOS or after a sync are refused")


def _nfc_nfd_dirs(ws):
    return bag(ws, {f"{_NFC}/a.txt": b"a", f"{_NFD}/b.txt": b"b"})


case(id="names-nfc-nfd-directories", group=GROUP,
     attack="two directories whose names differ only in normalization",
     build=_nfc_nfd_dirs, codes=("NAME-E002",), ingest_exit=REJECTED,
     guarantee="collisions are found among directories as well as files")


def _case_fold(ws):
    return bag(ws, {"Straße.txt": b"1", "STRASSE.txt": b"2", "Летопись.txt": b"3",
                    "ЛЕТОПИСЬ.txt": b"4"})


case(id="names-case-fold", group=GROUP,
     attack="names equal after case folding (`Straße`/`STRASSE`, Cyrillic upper/lower)",
     build=_case_fold, codes=("NAME-W001",), ingest_exit=WARNINGS,
     guarantee="case collisions are kept (they are distinct here) with a warning")

def _long_name(ws):
    name = "Л" * 125 + "a.txt"  # 250 + 5 = 255 bytes in UTF-8
    assert len(name.encode()) == 255
    return bag(ws, {name: b"long", f"{name[:-4]}/{name}": b"nested long"})


case(id="name-255-bytes", group=GROUP,
     attack="a 255-byte name in Cyrillic (125 two-byte letters), as file and as directory",
     build=_long_name, codes=(), ingest_exit=OK,
     guarantee="the longest name a Linux file system allows is stored byte-exact")


def _deep(levels: int):
    def build(ws):
        path = "/".join(["d"] * levels) + "/leaf.txt"
        return bag(ws, {path: b"deep", **PAGE})

    return build


case(id="tree-deep-allowed", group=GROUP, attack="a payload file 62 directories deep",
     build=_deep(62), codes=(), ingest_exit=OK,
     guarantee="deep trees within the depth limit (64 levels below the bag) are stored")
case(id="tree-too-deep", group=GROUP, attack="a payload file 100 directories deep",
     build=_deep(100), codes=("PAY-E002",), ingest_exit=REJECTED,
     guarantee="the walk stops at the depth limit: no recursion blow-up, a finding")


def _long_tree(levels: int, last: int):
    """A folder `levels` deep in 240-byte Cyrillic names, then a `last`-byte one, then
    leaf.txt: built with directory file descriptors, since a path-based call cannot reach
    the bottom once the whole path exceeds PATH_MAX (4096 bytes)."""

    def build(ws):
        root = folder(ws)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for segment in ["п" * 120] * levels + (["q" * last] if last else []):
                os.mkdir(segment, dir_fd=fd)
                child = os.open(segment, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = child
            leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(leaf, b"bottom")
            os.close(leaf)
        finally:
            os.close(fd)
        return root

    return build


case(id="tree-path-too-long-for-storage", group=GROUP,
     attack="a folder whose deepest path (3,986 bytes: 16 levels of 240-byte Cyrillic names) "
            "fits the deposit's file system but not below the repository's staging directory",
     build=_long_tree(16, 120), codes=("NAME-E004",), ingest_exit=REJECTED,
     guarantee="paths are limited to 3,072 bytes up front: a finding, never an internal error "
               "half-way through the copy")
case(id="tree-beyond-path-max", group=GROUP,
     attack="a folder whose deepest file's path is longer than PATH_MAX (18 levels of "
            "240-byte Cyrillic names)",
     build=_long_tree(18, 0), codes=("NAME-E004",), ingest_exit=REJECTED,
     guarantee="the walk stops at the path limit; nothing deeper is listed or opened")
