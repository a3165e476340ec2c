"""E-ARK SIP exports (preserve.export.eark, preserve.metadata.eark): eark-validator, the
official XSDs and our own read-back are the oracles."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from preserve.errors import FixityError
from preserve.export.eark import _join, verify_eark, write_eark
from preserve.export.source import ExportFile, ExportSource
from preserve.metadata import DcValue, SchemaSet, eark
from preserve.metadata import namespaces as ns
from preserve.metadata.mets import href_for

from .conftest import ORGANIZATION, PAYLOAD, TITLES, errors_of, make_source

M = {"mets": ns.METS, "xlink": ns.XLINK, "csip": ns.CSIP, "premis": ns.PREMIS, "dc": ns.DC}
#: eark-validator 1.1.3's SIP rule SIP14 wants an unqualified @NOTETYPE="IDENTIFICATIONCODE"
#: on the note of every CREATOR agent, while CSIP15/CSIP16 require the one CREATOR agent (the
#: software) to have exactly one note, typed csip:NOTETYPE="SOFTWARE VERSION", and METS
#: 1.12.1 allows no unqualified attribute on a note: no SIP can satisfy both. It is the only
#: error the validator may report on our packages.
VALIDATOR_DEFECTS = {"SIP14"}
#: Package-level rules (documentation and schema groups, CSIP60/95/113/99: 0..* in CSIP 2.1)
#: that the validator's rules also assert on a representation METS if one runs them there.
PACKAGE_LEVEL_ONLY = {"CSIP60", "CSIP95", "CSIP113", "CSIP99"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, schemas: SchemaSet) -> tuple[ExportSource, Path]:
    """One multilingual package, exported once for the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("eark")
    (folder / "storage").mkdir()
    source = make_source(folder / "storage")
    target = folder / source.package_id
    assert write_eark(source, target, schemas) == []
    return source, target


def _xml(path: Path) -> etree._Element:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.parse(str(path), parser).getroot()


@pytest.fixture(scope="module")
def validator_reports(exported, eark_validator, tmp_path_factory) -> dict:
    """eark-validator's reports on the export and on a broken copy, from one run (~1 s)."""
    _source, target = exported
    broken = tmp_path_factory.mktemp("broken") / "broken"
    shutil.copytree(target, broken)
    mets = (broken / "METS.xml").read_bytes()
    (broken / "METS.xml").write_bytes(mets.replace(b' TYPE="Text"', b' TYPE="Manuscripts"', 1)
                                      .replace(b'LABEL="CSIP"', b'LABEL="Physical"', 1))
    result = eark_validator(target, broken)
    return {"served": result["served_vocabularies"], "good": result["packages"][0],
            "broken": result["packages"][1]}


def test_eark_validator_accepts_the_export(validator_reports):
    assert sorted(validator_reports["served"]) == [
        "CSIPVocabularyContentCategory.xml", "CSIPVocabularyContentInformationType.xml",
        "CSIPVocabularyOAISPackageType.xml", "CSIPVocabularyStatus.xml"]
    package = validator_reports["good"]
    report = package["report"]
    assert report["structure"]["status"] == "WellFormed", report["structure"]
    assert errors_of(report["structure"]["messages"]) == []
    assert report["metadata"]["schema_results"]["status"] == "VALID", report["metadata"]
    errors = errors_of(report["metadata"]["schematron_results"]["messages"])
    # Exactly the validator's own contradiction, once (on the software agent's note).
    assert [e["rule_id"] for e in errors] == sorted(VALIDATOR_DEFECTS), errors
    assert report["package"]["details"]["oaispackagetype"] == "SIP"
    # The representation METS: valid METS, and only package-level rules besides the defect.
    (rep_messages,) = package["representations"].values()
    rules = {m["rule_id"] for m in errors_of(rep_messages)}
    assert rules <= VALIDATOR_DEFECTS | PACKAGE_LEVEL_ONLY, rep_messages


def test_eark_validator_is_a_real_oracle(validator_reports):
    report = validator_reports["broken"]["report"]
    rules = {e["rule_id"] for e in errors_of(report["metadata"]["schematron_results"]["messages"])}
    assert {"CSIP2", "CSIP82"} <= rules  # content category not in the vocabulary; LABEL


def test_mets_documents_are_valid_against_the_official_xsds(exported, schemas: SchemaSet):
    _source, target = exported
    assert ns.CSIP in schemas.loaded  # csip: attributes are checked, not skipped
    for mets in (target / "METS.xml", target / "representations/rep1/METS.xml"):
        document = mets.read_bytes()
        assert schemas.validate_mets(document) == [], mets
        assert schemas.validate_mets_independently(document) == [], mets


def _wrapped(document: bytes, md_type: str) -> bytes:
    """`document` inside a minimal METS mdWrap, so its root is checked against its schema."""
    root = etree.fromstring(document)
    mets = etree.Element(f"{{{ns.METS}}}mets", nsmap={"mets": ns.METS})
    wrap = etree.SubElement(etree.SubElement(mets, f"{{{ns.METS}}}dmdSec", ID="d"),
                            f"{{{ns.METS}}}mdWrap", MDTYPE=md_type)
    data = etree.SubElement(wrap, f"{{{ns.METS}}}xmlData")
    if md_type == "DC":  # oai_dc.xsd is not among the official XSDs here: check each dc: value
        data.extend(root)
    else:
        data.append(root)
    etree.SubElement(mets, f"{{{ns.METS}}}structMap").append(
        etree.Element(f"{{{ns.METS}}}div"))
    return etree.tostring(mets)


def test_premis_and_dc_documents_are_valid(exported, schemas: SchemaSet):
    _source, target = exported
    for path, md_type in (("metadata/preservation/premis.xml", "PREMIS"),
                          ("representations/rep1/metadata/preservation/premis.xml", "PREMIS"),
                          ("metadata/descriptive/dc.xml", "DC")):
        assert schemas.validate_mets(_wrapped((target / path).read_bytes(), md_type)) == [], path


def test_premis_carries_the_complete_history(exported):
    source, target = exported
    premis = _xml(target / "metadata/preservation/premis.xml")
    events = {(e.findtext("premis:eventIdentifier/premis:eventIdentifierType", namespaces=M),
               e.findtext("premis:eventIdentifier/premis:eventIdentifierValue", namespaces=M),
               e.findtext("premis:eventType", namespaces=M))
              for e in premis.iterfind("premis:event", M)}
    assert events == {(e.identifier_type, e.identifier, e.type) for e in source.events}
    assert {"fixity check", "transfer", "capture"} <= {kind for _, _, kind in events}
    agents = {a.findtext("premis:agentName", namespaces=M)
              for a in premis.iterfind("premis:agent", M)}
    assert {ORGANIZATION, "Гулноза Каримова", "Old Archive", "Қозоғистон архиви"} <= agents
    mets = _xml(target / "METS.xml")
    (ref,) = mets.iterfind("mets:amdSec/mets:digiprovMD/mets:mdRef", M)
    assert ref.get(f"{{{ns.XLINK}}}href") == "metadata/preservation/premis.xml"
    assert ref.get("MDTYPE") == "PREMIS" and ref.get("LOCTYPE") == "URL"


def test_titles_keep_their_scripts_and_languages(exported):
    _source, target = exported
    dc = _xml(target / "metadata/descriptive/dc.xml")
    titles = {(t.text, t.get(f"{{{ns.XML}}}lang")) for t in dc.iterfind("dc:title", M)}
    assert titles == {(t.value, t.lang) for t in TITLES}
    mets = _xml(target / "METS.xml")
    assert mets.get("TYPE") == "Text"  # the package's dc:type, a CSIP content category
    readme = (target / "documentation/README.txt").read_text("utf-8")
    assert "علیشیر نوایی. خمسه" in readme and "[uz-Cyrl]" in readme


def test_payload_names_and_bytes_arrive_exactly(exported):
    _source, target = exported
    data = target / "representations/rep1"
    on_disk = {os.path.relpath(os.path.join(folder, name), os.fsencode(data))
               for folder, _, names in os.walk(os.fsencode(data / "data")) for name in names}
    assert on_disk == {path.encode() for path in PAYLOAD}  # NFD é stays NFD
    for path, content in PAYLOAD.items():
        assert (data / path).read_bytes() == content
    rep = _xml(data / "METS.xml")
    hrefs = {unquote_to_bytes(f.get(f"{{{ns.XLINK}}}href"))
             for f in rep.iterfind("mets:fileSec/mets:fileGrp/mets:file/mets:FLocat", M)}
    assert hrefs == {path.encode() for path in PAYLOAD}
    sums = {f.get("CHECKSUM") for f in rep.iterfind("mets:fileSec/mets:fileGrp/mets:file", M)}
    assert sums == {hashlib.sha512(c).hexdigest() for c in PAYLOAD.values()}


def test_a_written_package_reads_back_clean(exported):
    _source, target = exported
    assert verify_eark(target) == []


def test_tampering_is_found(tmp_path: Path, schemas: SchemaSet):
    (tmp_path / "storage").mkdir()
    source = make_source(tmp_path / "storage")
    target = tmp_path / "out"
    write_eark(source, target, schemas)
    victim = target / "representations/rep1" / "data/Қўлёзмалар/001 варақ.tif"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0x01
    victim.write_bytes(bytes(data))
    (target / "schemas/xlink.xsd").unlink()
    (target / "representations/rep1/data/stray.txt").write_bytes(b"not ours")
    found = {(f.code, f.path) for f in verify_eark(target)}
    assert found == {
        ("EARK-E001", "representations/rep1/data/Қўлёзмалар/001 варақ.tif"),
        ("EARK-E002", "schemas/xlink.xsd"),
        ("EARK-E003", "representations/rep1/data/stray.txt"),
    }
    (target / "representations/rep1/METS.xml").write_bytes(b"<mets")
    codes = {(f.code, f.path) for f in verify_eark(target)}
    assert ("EARK-E004", "representations/rep1/METS.xml") in codes
    assert ("EARK-E001", "representations/rep1/METS.xml") in codes  # its checksum, too


def test_stored_content_that_differs_from_the_catalog_stops_the_export(tmp_path: Path):
    (tmp_path / "storage").mkdir()
    source = make_source(tmp_path / "storage")
    bad = source.files[0]
    stored = tmp_path / "storage" / bad.content.path
    stored.write_bytes(stored.read_bytes() + b"!")
    with pytest.raises(FixityError, match=bad.path):
        write_eark(source, tmp_path / "out", None)


def test_same_source_same_documents_and_no_schemas_without_a_directory(tmp_path: Path):
    (tmp_path / "storage").mkdir()
    source = make_source(tmp_path / "storage")
    assert [f.code for f in write_eark(source, tmp_path / "a", None)] == ["META-W004"]
    write_eark(source, tmp_path / "b", None)
    for name in ("METS.xml", "representations/rep1/METS.xml",
                 "metadata/preservation/premis.xml", "metadata/descriptive/dc.xml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert not (tmp_path / "a/schemas").exists()
    assert not _xml(tmp_path / "a/METS.xml").findall("mets:fileSec/mets:fileGrp[@USE='Schemas']", M)
    assert verify_eark(tmp_path / "a") == []


def test_supplied_mods_gets_its_own_dmdsec_and_schema(tmp_path: Path, schema_dir: Path):
    (tmp_path / "storage").mkdir()
    mods = (b'<mods xmlns="http://www.loc.gov/mods/v3" version="3.8"><titleInfo lang="uzb">'
            b'<title>Xamsa</title></titleInfo></mods>')
    source = make_source(tmp_path / "storage", {"data/a.txt": b"a"}, mods=mods)
    write_eark(source, tmp_path / "out", schema_dir)
    assert (tmp_path / "out/metadata/descriptive/mods.xml").read_bytes() == mods
    assert (tmp_path / "out/schemas/mods-3-8.xsd").is_file()
    types = {r.get("MDTYPE") for r in _xml(tmp_path / "out/METS.xml").iterfind(
        "mets:dmdSec/mets:mdRef", M)}
    assert types == {"DC", "MODS"}
    assert verify_eark(tmp_path / "out") == []


def test_content_category_follows_one_dcmi_type():
    assert eark.content_category([DcValue("type", "still image")]) == "Still image"
    assert eark.content_category([DcValue("type", "Text"), DcValue("type", "Sound")]) == "Mixed"
    assert eark.content_category([DcValue("type", "manuscript")]) == "Mixed"
    assert eark.content_category([]) == "Mixed"


def test_payload_outside_data_is_refused(tmp_path: Path):
    content = tmp_path / "c"
    content.write_bytes(b"x")
    source = make_source(tmp_path, {"data/a.txt": b"a"})
    odd = ExportFile("bag-info.txt", 1, hashlib.sha256(b"x").hexdigest(),
                     hashlib.sha512(b"x").hexdigest(), content)
    with pytest.raises(ValueError, match="bag-info.txt"):
        write_eark(ExportSource(source.package_id, 1, source.created, None, (), (odd,), (),
                                (), None, (), "Archive"), tmp_path / "out", None)


_SEGMENT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                   min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(st.lists(_SEGMENT, min_size=1, max_size=4), st.sampled_from(["", "representations/rep1"]))
def test_every_href_names_its_file_exactly(segments: list[str], base: str):
    """Round trip: the href written for a path leads the read-back to the same bytes."""
    path = "/".join(segments)
    joined = _join(base.encode(), href_for(path))
    assert joined == (f"{base}/{path}" if base else path).encode()
