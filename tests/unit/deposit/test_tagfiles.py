"""Tag-file parsing and writing (RFC 8493 2.1.1, 2.1.3, 2.2.2, 2.2.3), without the filesystem."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preserve.deposit import format_manifest_line, format_tag_file
from preserve.deposit.tagfiles import (
    decode_path,
    decode_tag_file,
    is_safe_path,
    parse_bagit_txt,
    parse_fetch,
    parse_manifest,
    parse_oxum,
    parse_tag_file,
)

from .bags import codes

SHA = hashlib.sha256(b"x").hexdigest()

# Letters archivists use, plus the characters that need percent-encoding and spaces.
_ALPHABET = st.sampled_from(list("abcXYZ019 .-_%\r\n\t") + list("ЎўҚқҒғҲҳәіңөұүАяʻشسخهپچژگ۱٢ة"))
_SEGMENT = st.text(_ALPHABET, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
_PAYLOAD_PATH = st.lists(_SEGMENT, min_size=1, max_size=4).map(lambda p: "data/" + "/".join(p))


@given(entries=st.dictionaries(_PAYLOAD_PATH, st.binary(max_size=8), max_size=8))
def test_manifest_round_trip(entries):
    text = "".join(format_manifest_line(hashlib.sha256(v).hexdigest(), k)
                   for k, v in entries.items())
    parsed, findings = parse_manifest(text, "manifest-sha256.txt", "sha256", payload=True)
    assert findings == []
    assert parsed == {k: hashlib.sha256(v).hexdigest() for k, v in entries.items()}


@given(st.text(_ALPHABET, max_size=30))
def test_percent_decoding_inverts_encoding(path):
    from preserve.deposit.tagfiles import encode_path
    assert decode_path(encode_path(path)) == path
    assert "\n" not in encode_path(path) and "\r" not in encode_path(path)


def test_only_three_percent_escapes_are_decoded():
    assert decode_path("a%0Ab%0dc%25d%20e%2F") == "a\nb\rc%d%20e%2F"


@given(st.lists(st.tuples(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True),
    st.text(_ALPHABET.filter(lambda c: c not in "\r\n"), max_size=40).map(str.strip)),
    max_size=6))
def test_tag_file_round_trip(pairs):
    parsed, findings = parse_tag_file(format_tag_file(pairs), "bag-info.txt")
    assert [f.code for f in findings] == []
    assert parsed == pairs


def test_tag_file_continuation_lines_are_unfolded():
    text = "Title: Qoʻlyozmalar\r\n  toʻplami\n\tjild 2\nContact-Name: Ali\n"
    pairs, findings = parse_tag_file(text, "bag-info.txt")
    assert pairs == [("Title", "Qoʻlyozmalar toʻplami jild 2"), ("Contact-Name", "Ali")]
    assert findings == []


def test_format_tag_file_folds_line_breaks():
    text = format_tag_file([("Title", "one\ntwo")])
    assert parse_tag_file(text, "bag-info.txt")[0] == [("Title", "one two")]
    with pytest.raises(ValueError):
        format_tag_file([("Bad:Label", "x")])


@pytest.mark.parametrize("text, code", [
    ("no colon here\n", "BAG-E008"),
    ("  continuation first\n", "BAG-E008"),
    (": empty label\n", "BAG-E008"),
    ("Label: a\n\nOther: b\n", "BAG-W002"),
    ("Label:value\n", "BAG-W003"),
    ("Label: a\x00b\n", "BAG-E007"),
])
def test_tag_file_problems(text, code):
    assert code in codes(parse_tag_file(text, "bag-info.txt")[1])


@pytest.mark.parametrize("value, expected", [
    ("12.3", (12, 3)), (" 0.0 ", (0, 0)), ("12", None), ("a.b", None), ("1.2.3", None),
    ("-1.2", None), ("", None), ("1,5.2", None), ("١٢.٣", None),
])
def test_parse_oxum(value, expected):
    assert parse_oxum(value) == expected


@pytest.mark.parametrize("line, code", [
    ("garbage\n", "MAN-E002"),
    (f"{SHA}\n", "MAN-E002"),
    (f"{SHA[:-2]}  data/a\n", "MAN-E004"),
    (f"{'z' * 64}  data/a\n", "MAN-E002"),
    (f"{SHA}  data/a\x00b\n", "BAG-E007"),
    (f"{SHA}  data/../../etc/passwd\n", "MAN-E006"),
    (f"{SHA}  /etc/passwd\n", "MAN-E006"),
    (f"{SHA}  ~/x\n", "MAN-E006"),
    (f"{SHA}  data\\x\n", "MAN-E006"),
    (f"{SHA}  C:/x\n", "MAN-E006"),
    (f"{SHA}  data//x\n", "MAN-E006"),
    (f"{SHA}  bag-info.txt\n", "MAN-E007"),
    (f"{SHA}  data/a\n{SHA}  data/a\n", "MAN-E005"),
])
def test_manifest_problems(line, code):
    entries, findings = parse_manifest(line, "manifest-sha256.txt", "sha256", payload=True)
    assert code in codes(findings)
    assert "data/a" not in entries or code == "MAN-E005"


def test_manifest_accepts_tabs_uppercase_and_crlf():
    text = f"{SHA.upper()}\t data/a b\r\n{SHA} data/c%0Ad\r"
    entries, findings = parse_manifest(text, "manifest-sha256.txt", "sha256", payload=True)
    assert findings == []
    assert entries == {"data/a b": SHA, "data/c\nd": SHA}


def test_tag_manifest_must_not_list_payload():
    _, findings = parse_manifest(f"{SHA}  data/a\n", "tagmanifest-sha256.txt", "sha256",
                                 payload=False)
    assert codes(findings) == {"MAN-E007"}


def test_fetch_lines():
    text = "https://example.org/a 12 data/a%25b\nhttp://x - data/c d\nbad line\nu 1 ../x\n"
    entries, findings = parse_fetch(text)
    assert entries == [("https://example.org/a", 12, "data/a%b"), ("http://x", None, "data/c d")]
    assert codes(findings) == {"BAG-E013", "MAN-E006"}


@pytest.mark.parametrize("data, code", [
    (b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", "BAG-E005"),
    (b"BagIt-Version: 1.0\n", "BAG-E002"),
    (b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n", "BAG-E002"),
    (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: 1\n", "BAG-E002"),
    (b"BagIt-Version: 1.0\xff\nTag-File-Character-Encoding: UTF-8\n", "BAG-E002"),
    (b"BagIt-Version: 1.0\x00\nTag-File-Character-Encoding: UTF-8\n", "BAG-E002"),
    (b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n", "BAG-E003"),
    (b"BagIt-Version: 0.92\nTag-File-Character-Encoding: UTF-8\n", "BAG-E003"),
    (b"BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n", "BAG-W005"),
    (b"BagIt-Version:  1.0\nTag-File-Character-Encoding: UTF-8\n", "BAG-E002"),
    (b"BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n", "BAG-E002"),
    (b"BagIt-Version: 1.0\n\nTag-File-Character-Encoding: UTF-8\n", "BAG-E002"),
    (b"BagIt-Version : 0.97\nTag-File-Character-Encoding: UTF-8\n", "BAG-W007"),
    (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: klingon-8\n", "BAG-E004"),
    (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: rot13\n", "BAG-E004"),
    (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n", "BAG-W004"),
])
def test_bagit_txt_problems(data, code):
    assert code in codes(parse_bagit_txt(data)[1])


@pytest.mark.parametrize("version", ["1.0", "0.97"])
def test_bagit_txt_accepted(version):
    data = f"BagIt-Version: {version}\r\nTag-File-Character-Encoding: utf-8".encode()
    declaration, findings = parse_bagit_txt(data)
    assert findings == []
    assert (declaration.version, declaration.encoding) == (version, "utf-8")


def test_decode_tag_file_bom_and_bad_bytes():
    text, findings = decode_tag_file(b"\xef\xbb\xbfA: b\n", "utf-8", "bag-info.txt")
    assert text == "A: b\n" and codes(findings) == {"BAG-W001"}
    text, findings = decode_tag_file(b"A: \xd0\n", "utf-8", "bag-info.txt")
    assert text is None and codes(findings) == {"BAG-E006"}
    text, findings = decode_tag_file("A: Ўзбек\n".encode("cp1251"), "cp1251", "bag-info.txt")
    assert text == "A: Ўзбек\n" and findings == []


@pytest.mark.parametrize("path, safe", [
    ("data/a", True), ("data/a b/ c", True), ("data/..a", True), ("data/a~", True),
    ("../a", False), ("data/./a", False), ("", False), ("~root/a", False), ("a\\b", False),
    ("d:x", False), ("data/", False),
])
def test_is_safe_path(path, safe):
    assert is_safe_path(path) is safe
