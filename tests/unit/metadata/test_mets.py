"""build_mets: deterministic, schema-valid METS 1.12.1 with names and values kept exactly."""

from __future__ import annotations

import datetime as dt
import random
import re
from urllib.parse import unquote

import pytest
from lxml import etree

from preserve.metadata import SchemaSet, build_mets
from preserve.metadata.mets import file_ids, xml_safe
from preserve.metadata.namespaces import DC, METS, XLINK

from .conftest import CREATED, MULTILINGUAL_BAG_INFO, MULTILINGUAL_PATHS, mets_file

NS = {"mets": METS, "dc": DC, "xlink": XLINK}


def build(**overrides):
    arguments = dict(package_id="pkg-0001", version=1, created=CREATED,
                     files=[mets_file(p) for p in MULTILINGUAL_PATHS],
                     bag_info=MULTILINGUAL_BAG_INFO, software="preserve 0.1.0")
    arguments.update(overrides)
    return build_mets(**arguments)


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def c14n(document: bytes) -> bytes:
    return etree.tostring(etree.fromstring(document), method="c14n2")


def test_same_inputs_same_bytes_whatever_the_file_order():
    first = build()
    shuffled = [mets_file(p) for p in MULTILINGUAL_PATHS]
    random.Random(7).shuffle(shuffled)
    assert build() == first
    assert build(files=shuffled) == first
    assert c14n(build(files=shuffled)) == c14n(first)


def test_created_is_written_in_utc_with_z():
    tashkent = dt.timezone(dt.timedelta(hours=5))
    document = build(created=dt.datetime(2026, 11, 25, 14, 30, 0, 250000, tzinfo=tashkent))
    header = parse(document).find("mets:metsHdr", NS)
    assert header.get("CREATEDATE") == "2026-11-25T09:30:00.250000Z"


def test_multilingual_document_is_valid_for_both_validators(schemas: SchemaSet):
    document = build()
    assert schemas.validate_mets(document) == []
    assert schemas.validate_mets_independently(document) == []


def test_dublin_core_keeps_values_exactly():
    root = parse(build(label="ignored for dc:title when bag-info has a Title"))
    dc = [(etree.QName(e).localname, e.text)
          for e in root.find("mets:dmdSec/mets:mdWrap[@MDTYPE='DC']/mets:xmlData", NS)]
    assert dc == [
        ("identifier", "pkg-0001"),
        ("identifier", "УзМК-қўлёзма-17"),
        ("identifier", "ark:/12345/қолжазба"),
        ("title", "Qoʻlyozmalar to‘plami — Қўлёзмалар тўплами"),
        ("title", "Летопись / دیوان حافظ / كتاب الشفاء"),
        ("description", "  Kazakh: Қара сөздер.\n  Persian: نسخه‌های خطی  "),
    ]
    # The depositor is no dc:publisher and the bagging day no dc:date (issue 16 §3): the
    # depositor is the header's SUBMITTER agent.
    submitter = root.find("mets:metsHdr/mets:agent[@OTHERROLE='SUBMITTER']/mets:name", NS)
    assert submitter.text == "Alisher Navoiy nomidagi Oʻzbekiston Milliy kutubxonasi"
    assert root.get("OBJID") == "pkg-0001"
    assert root.get("LABEL") == "ignored for dc:title when bag-info has a Title"


def test_label_and_title_fall_back_on_each_other():
    no_title = [("Bagging-Date", "2026-11-25")]
    root = parse(build(bag_info=no_title, label="Қўлёзмалар"))
    assert root.findtext("mets:dmdSec//dc:title", namespaces=NS) == "Қўлёзмалар"
    root = parse(build(bag_info=[("title", "Летопись")]))  # labels match case-insensitively
    assert root.get("LABEL") == "Летопись"
    root = parse(build(bag_info=no_title))
    assert root.get("LABEL") is None
    assert root.find("mets:dmdSec//dc:title", NS) is None
    assert root.find("mets:structMap/mets:div", NS).get("LABEL") == "pkg-0001"


def test_file_sec_lists_every_file_with_size_and_sha512():
    files = [mets_file(p) for p in MULTILINGUAL_PATHS]
    root = parse(build(files=files))
    groups = root.findall("mets:fileSec/mets:fileGrp", NS)
    assert [g.get("USE") for g in groups] == ["payload"]
    by_href = {unquote(f.find("mets:FLocat", NS).get(f"{{{XLINK}}}href")): f
               for f in groups[0].findall("mets:file", NS)}
    assert sorted(by_href) == sorted(MULTILINGUAL_PATHS)
    for given in files:
        element = by_href[given.path]
        assert element.get("CHECKSUM") == given.sha512
        assert element.get("CHECKSUMTYPE") == "SHA-512"
        assert element.get("SIZE") == str(given.size)
        assert element.get("ID") == file_ids(MULTILINGUAL_PATHS)[given.path]
        locat = element.find("mets:FLocat", NS)
        assert locat.get("LOCTYPE") == "URL"
        assert locat.get(f"{{{XLINK}}}type") == "simple"


def test_hrefs_are_percent_encoded_relative_references():
    root = parse(build())
    hrefs = {h for h in root.xpath("//mets:FLocat/@xlink:href", namespaces=NS)}
    assert "data/a%20b/100%25%20%231.txt" in hrefs
    assert "data/line%0Abreak.txt" in hrefs
    assert all(re.fullmatch(r"[A-Za-z0-9/%._~-]+", h) for h in hrefs)


def test_struct_map_mirrors_folders_with_one_fptr_per_file():
    root = parse(build())
    ids = file_ids(MULTILINGUAL_PATHS)
    top = root.find("mets:structMap[@TYPE='physical']/mets:div", NS)
    assert top.get("DMDID") == "dmd-dc"
    fptrs = top.findall(".//mets:fptr", NS)
    assert sorted(f.get("FILEID") for f in fptrs) == sorted(ids.values())
    found = {}
    for fptr in fptrs:
        labels = [d.get("LABEL") for d in fptr.iterancestors(f"{{{METS}}}div")][::-1]
        found[fptr.get("FILEID")] = "/".join(labels[1:])  # below the version div
    assert found == {file_id: path for path, file_id in ids.items()}
    folder = top.find("mets:div[@LABEL='data']/mets:div[@LABEL='نسخه‌های خطی']", NS)
    assert folder.get("TYPE") == "Directory"
    assert folder.find("mets:div", NS).get("LABEL") == "برگ ۱.txt"


def test_characters_xml_cannot_carry_are_escaped_in_labels(schemas: SchemaSet):
    paths = ["data/bell\x07 and tab\t.txt", "data/ok.txt"]
    document = build(files=[mets_file(p) for p in paths],
                     bag_info=[("Title", "vertical\x0btab"), ("External-Identifier", "x\x00y")])
    assert schemas.validate_mets(document) == []
    root = parse(document)
    labels = root.xpath("//mets:div[@TYPE='Item']/@LABEL", namespaces=NS)
    assert "bell\\u0007 and tab\t.txt" in labels
    assert root.findtext("mets:dmdSec//dc:title", namespaces=NS) == "vertical\\u000Btab"
    hrefs = root.xpath("//mets:FLocat/@xlink:href", namespaces=NS)
    assert [unquote(h) for h in hrefs] == paths  # the href stays lossless
    assert xml_safe("\ud800\ufffe\U0001F600") == "\\uD800\\uFFFE\U0001F600"


def test_file_ids_are_unique_ncnames_independent_of_order():
    ids = file_ids(MULTILINGUAL_PATHS)
    assert ids == file_ids(list(reversed(MULTILINGUAL_PATHS)))
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"file-[0-9a-f]{16}", i) for i in ids.values())


@pytest.mark.parametrize("change", [
    dict(created=dt.datetime(2026, 1, 1)),
    dict(version=0),
    dict(files=[mets_file("data/a"), mets_file("data/a")]),
    dict(files=[mets_file("data/a"), mets_file("data/a/b")]),
    dict(files=[mets_file("data/../etc")]),
    dict(files=[mets_file("/abs")]),
    dict(files=[mets_file("data//x")]),
])
def test_inputs_no_caller_should_give_are_value_errors(change):
    with pytest.raises(ValueError):
        build(**change)
