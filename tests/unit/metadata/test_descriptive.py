"""Descriptive CSV -> Dublin Core values with BCP 47 languages, and into the METS dmdSec."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from preserve.metadata import DcValue, build_mets
from preserve.metadata.descriptive import (
    find_descriptive_csv,
    language_tag,
    read_descriptive_csv,
)
from preserve.metadata.mets import xml_safe
from preserve.metadata.namespaces import DC, METS, XML

from .conftest import CREATED, mets_file


@pytest.mark.parametrize("tag, canonical", [
    ("uz-Latn", "uz-Latn"), ("uz-cyrl", "uz-Cyrl"), ("KK-CYRL", "kk-Cyrl"), ("tk-Latn", "tk-Latn"),
    ("ru", "ru"), ("fa-Arab", "fa-Arab"), ("chg-Arab", "chg-Arab"), ("uz-Cyrl-uz", "uz-Cyrl-UZ"),
    ("de-CH-1996", "de-CH-1996"), ("ar-001", "ar-001"), ("en-a-bbb-x-ABC", "en-a-bbb-x-abc"),
    ("x-mahalliy", "x-mahalliy"), ("zh-yue-Hant", "zh-yue-Hant"),
])
def test_well_formed_tags_are_accepted_in_canonical_case(tag, canonical):
    assert language_tag(tag) == canonical


@pytest.mark.parametrize("tag", ["", "uz_Cyrl", "uz--Cyrl", "Cyrl-uz-", "u", "uzbekistani",
                                 "uz-Cyrl-", "uz-Cyrl-x", "fa-Arab-a", "12-ab", "uz Latn"])
def test_malformed_tags_are_refused(tag):
    assert language_tag(tag) is None


def test_csv_columns_become_dc_values_with_languages_and_findings_for_bad_columns():
    data = ("\ufefftitle,title[uz-Cyrl],title[fa-Arab],Creator[UZ-latn],titel,date[uz_Cyrl]\n"
            "Boburnoma,Бобурнома,بابرنامه,Bobur,x,1530\n"
            ",Иккинчи,,, ,\n").encode()
    values, findings = read_descriptive_csv(data, "metadata/descriptive.csv")
    assert values == [
        DcValue("title", "Boburnoma"), DcValue("title", "Бобурнома", "uz-Cyrl"),
        DcValue("title", "بابرنامه", "fa-Arab"), DcValue("creator", "Bobur", "uz-Latn"),
        DcValue("date", "1530"), DcValue("title", "Иккинчи", "uz-Cyrl")]
    assert [(f.code, f.path) for f in findings] == [
        ("META-W002", "metadata/descriptive.csv"), ("META-W001", "metadata/descriptive.csv")]


def test_unreadable_csv_is_one_warning():
    assert read_descriptive_csv(b"title\n\xff\xfe\n", "metadata.csv")[1][0].code == "META-W003"
    assert read_descriptive_csv(b'title\n"open', "metadata.csv")[1][0].code == "META-W003"
    assert read_descriptive_csv(b"", "metadata.csv") == ([], [])


def test_which_tag_file_is_the_descriptive_csv():
    assert find_descriptive_csv(["bag-info.txt", "metadata.csv",
                                 "metadata/descriptive.csv"]) == "metadata/descriptive.csv"
    assert find_descriptive_csv(["bag-info.txt", "metadata.csv"]) == "metadata.csv"
    assert find_descriptive_csv(["bag-info.txt", "data.csv"]) is None


LANGS = st.sampled_from(["", "uz-Latn", "uz-Cyrl", "kk-Cyrl", "tk-Latn", "ru", "fa-Arab",
                         "chg-Arab"])
ELEMENTS = st.sampled_from(["title", "creator", "subject", "description", "date", "language"])
# Any Unicode except the NUL csv cannot carry and lone surrogates UTF-8 cannot encode.
CELLS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ELEMENTS, LANGS), min_size=1, max_size=5, unique=True),
       st.lists(st.lists(CELLS, min_size=5, max_size=5), min_size=1, max_size=3))
def test_csv_to_dc_round_trip_keeps_every_value_and_language(columns, rows):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([f"{e}[{lang}]" if lang else e for e, lang in columns])
    for row in rows:
        writer.writerow(row[:len(columns)])
    values, findings = read_descriptive_csv(out.getvalue().encode(), "metadata.csv")
    assert findings == []
    expected = [DcValue(e, cell, lang) for row in rows
                for (e, lang), cell in zip(columns, row, strict=False)]
    assert values == expected

    document = build_mets(package_id="p", version=1, created=CREATED,
                          files=[mets_file("data/a.txt")], bag_info=[], software="t",
                          descriptive=values)
    data = etree.fromstring(document).find(f"{{{METS}}}dmdSec//{{{METS}}}xmlData")
    written = [(etree.QName(e).localname, e.text or "", e.get(f"{{{XML}}}lang", ""))
               for e in data if e.tag != f"{{{DC}}}identifier"]
    # Exactly: lxml writes CR as a character reference, so it survives parsing too.
    assert written == [(v.element, xml_safe(v.value), v.lang) for v in values]
