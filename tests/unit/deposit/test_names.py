"""preserve.names: escaping for display, collisions after normalization and case folding."""

from __future__ import annotations

import os
import unicodedata

from preserve.names import CASEFOLD, NFC, collisions, escape_name, has_unsafe_characters


def test_escape_controls_and_bidi():
    assert escape_name("a\nb") == "a\\x0ab"
    assert escape_name("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert escape_name("x\u2066y\u2069\u200e\u200f\u061c") == "x\\u2066y\\u2069\\u200e\\u200f\\u061c"
    assert escape_name("tab\there\x7f") == "tab\\x09here\\x7f"


def test_escape_keeps_letters_of_every_script():
    for name in ("Ўзбекистон тарихи.txt", "Oʻzbekiston", "Қазақ әдебиеті", "نسخه خطی ۱", "مخطوطة"):
        assert escape_name(name) == name
        assert not has_unsafe_characters(name)


def test_escape_undecodable_bytes():
    name = os.fsdecode(b"caf\xe9.txt")
    assert escape_name(name) == "caf\\xe9.txt"


def test_escape_is_unambiguous_for_backslash():
    assert escape_name("a\\x0a") == "a\\\\x0a"


def test_collisions_nfc_nfd_and_case():
    nfc = unicodedata.normalize("NFC", "Қазақ й.txt")
    nfd = unicodedata.normalize("NFD", "Қазақ й.txt")
    assert nfc != nfd
    found = collisions([nfc, nfd, "README", "readme", "other"])
    kinds = {(frozenset((a, b)), kind) for a, b, kind in found}
    assert (frozenset((nfc, nfd)), NFC) in kinds
    assert (frozenset(("README", "readme")), CASEFOLD) in kinds
    assert len(found) == 2


def test_no_collisions_for_distinct_names():
    assert collisions(["Oʻzbek", "O'zbek", "a", "b"]) == []
