"""Rights from an imported package's PREMIS (issue 16 §1): an Archivematica AIP's PREMIS 2.2
(or 3.0) rightsStatements, each in a file's rightsMD and linked to that file by its UUID, are
kept as PREMIS 3 statements linked to the same payload files, and survive export and ingest
into a second repository. A statement that cannot be mapped is warning RIGHTS-W001.

The AIP is written here as Archivematica 1.x lays it out: a BagIt 0.97 bag with
data/objects/… and data/METS.<uuid>.xml; per file one amdSec holding a techMD (the PREMIS
file object with its UUID and originalName), a rightsMD per statement and a digiprovMD event;
the fileSec's files point at their amdSec by ADMID.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from preserve.metadata.schemas import SchemaSet
from tests.builders import write_bag
from tests.cli.conftest import schemas_dir

AIP_UUID = "3f1e2d4c-5b6a-4798-8e7f-0a1b2c3d4e5f"
PAGE_UUID = "a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a5b"
NOTES_UUID = "a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a5b"
ELSEWHERE_UUID = "deadbeef-0003-4e5f-8a9b-0c1d2e3f4a5b"  # a file of some other AIP
COPYRIGHT_ID = "c0c0c0c0-1111-4aaa-8bbb-000000000001"
LICENSE_ID = "c0c0c0c0-1111-4aaa-8bbb-000000000002"
DONOR_ID = "c0c0c0c0-1111-4aaa-8bbb-000000000003"
STRAY_ID = "c0c0c0c0-1111-4aaa-8bbb-000000000004"
NAMESPACES = {2: ("info:lc/xmlns/premis-v2", "2.2",
                  "http://www.loc.gov/standards/premis/v2/premis-v2-2.xsd"),
              3: ("http://www.loc.gov/premis/v3", "3.0",
                  "http://www.loc.gov/standards/premis/v3/premis.xsd")}
PREMIS3 = "{http://www.loc.gov/premis/v3}"
FILES = {"Qoʻlyozma/varaq-001.txt": "page one\n", "izoh.txt": "notes\n"}


def _statement(version: int, identifier: str, basis_xml: str, granted: str, link: str) -> str:
    uri, _number, location = NAMESPACES[version]  # (rightsStatement has no version attribute)
    return (f'<premis:rightsStatement xmlns:premis="{uri}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{uri} {location}">'
            "<premis:rightsStatementIdentifier><premis:rightsStatementIdentifierType>UUID"
            "</premis:rightsStatementIdentifierType><premis:rightsStatementIdentifierValue>"
            f"{identifier}</premis:rightsStatementIdentifierValue>"
            f"</premis:rightsStatementIdentifier>{basis_xml}{granted}"
            "<premis:linkingObjectIdentifier><premis:linkingObjectIdentifierType>UUID"
            "</premis:linkingObjectIdentifierType><premis:linkingObjectIdentifierValue>"
            f"{link}</premis:linkingObjectIdentifierValue></premis:linkingObjectIdentifier>"
            "</premis:rightsStatement>")


COPYRIGHT = ("<premis:rightsBasis>Copyright</premis:rightsBasis><premis:copyrightInformation>"
             "<premis:copyrightStatus>copyrighted</premis:copyrightStatus>"
             "<premis:copyrightJurisdiction>uz</premis:copyrightJurisdiction>"
             "<premis:copyrightStatusDeterminationDate>2019-03-01"
             "</premis:copyrightStatusDeterminationDate>"
             "<premis:copyrightNote>Held by the author's heirs</premis:copyrightNote>"
             "<premis:copyrightApplicableDates><premis:startDate>1990-01-01</premis:startDate>"
             "<premis:endDate>2060-01-01</premis:endDate></premis:copyrightApplicableDates>"
             "</premis:copyrightInformation>")
RESTRICTED = ("<premis:rightsGranted><premis:act>Disseminate</premis:act>"
              "<premis:restriction>Disallow</premis:restriction><premis:termOfRestriction>"
              "<premis:startDate>2019-03-01</premis:startDate>"
              "<premis:endDate>2030-12-31</premis:endDate></premis:termOfRestriction>"
              "<premis:rightsGrantedNote>Reading room only</premis:rightsGrantedNote>"
              "</premis:rightsGranted>")
LICENSE = ("<premis:rightsBasis>License</premis:rightsBasis><premis:licenseInformation>"
           "<premis:licenseTerms>CC-BY-4.0</premis:licenseTerms>"
           "<premis:licenseNote>Attribution to Milliy kutubxona</premis:licenseNote>"
           "</premis:licenseInformation>")
GRANTED = ("<premis:rightsGranted><premis:act>Replicate</premis:act>"
           "<premis:restriction>Allow</premis:restriction><premis:termOfGrant>"
           "<premis:startDate>2020-01-01</premis:startDate><premis:endDate>OPEN</premis:endDate>"
           "</premis:termOfGrant></premis:rightsGranted>")
DONOR = ("<premis:rightsBasis>Other</premis:rightsBasis><premis:otherRightsInformation>"
         "<premis:otherRightsBasis>Donor</premis:otherRightsBasis>"
         "<premis:otherRightsNote>Gift of the Navoiy family</premis:otherRightsNote>"
         "</premis:otherRightsInformation>")
STATUTE = ("<premis:rightsBasis>Statute</premis:rightsBasis><premis:statuteInformation>"
           "<premis:statuteJurisdiction>kz</premis:statuteJurisdiction>"
           "<premis:statuteCitation>Law on the National Archival Fund art. 12"
           "</premis:statuteCitation></premis:statuteInformation>")


def _file_amd(number: int, version: int, uuid: str, name: str, rights: list[str]) -> str:
    uri, premis_number, _ = NAMESPACES[version]
    obj = (f'<premis:object xmlns:premis="{uri}" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="premis:file" '
           f'version="{premis_number}"><premis:objectIdentifier><premis:objectIdentifierType>'
           "UUID</premis:objectIdentifierType><premis:objectIdentifierValue>"
           f"{uuid}</premis:objectIdentifierValue></premis:objectIdentifier>"
           "<premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel>"
           "<premis:format><premis:formatDesignation><premis:formatName>Plain Text File"
           "</premis:formatName></premis:formatDesignation><premis:formatRegistry>"
           "<premis:formatRegistryName>PRONOM</premis:formatRegistryName>"
           "<premis:formatRegistryKey>x-fmt/111</premis:formatRegistryKey>"
           "</premis:formatRegistry></premis:format></premis:objectCharacteristics>"
           f"<premis:originalName>%transferDirectory%objects/{name}</premis:originalName>"
           "</premis:object>")
    rights_md = "".join(
        f'<mets:rightsMD ID="rightsMD_{number}_{i}"><mets:mdWrap MDTYPE="PREMIS:RIGHTS">'
        f"<mets:xmlData>{statement}</mets:xmlData></mets:mdWrap></mets:rightsMD>"
        for i, statement in enumerate(rights, 1))
    detail = ('<premis:eventDetail>program="Archivematica"</premis:eventDetail>' if version == 2
              else "<premis:eventDetailInformation><premis:eventDetail>program=\"Archivematica\""
              "</premis:eventDetail></premis:eventDetailInformation>")
    event = (f'<premis:event xmlns:premis="{uri}" version="{premis_number}">'
             "<premis:eventIdentifier><premis:eventIdentifierType>UUID"
             "</premis:eventIdentifierType><premis:eventIdentifierValue>"
             f"e0e0e0e0-0000-4000-8000-00000000000{number}</premis:eventIdentifierValue>"
             "</premis:eventIdentifier><premis:eventType>ingestion</premis:eventType>"
             f"<premis:eventDateTime>2019-03-04T05:06:0{number}</premis:eventDateTime>{detail}"
             "<premis:eventOutcomeInformation><premis:eventOutcome>pass</premis:eventOutcome>"
             "</premis:eventOutcomeInformation></premis:event>")
    return (f'<mets:amdSec ID="amdSec_{number}"><mets:techMD ID="techMD_{number}">'
            '<mets:mdWrap MDTYPE="PREMIS:OBJECT"><mets:xmlData>'
            f"{obj}</mets:xmlData></mets:mdWrap></mets:techMD>{rights_md}"
            f'<mets:digiprovMD ID="digiprovMD_{number}"><mets:mdWrap MDTYPE="PREMIS:EVENT">'
            f"<mets:xmlData>{event}</mets:xmlData></mets:mdWrap></mets:digiprovMD></mets:amdSec>")


def _aip_mets(version: int, page_rights: list[str], notes_rights: list[str]) -> str:
    page, notes = FILES
    amd = (_file_amd(1, version, PAGE_UUID, page, page_rights)
           + _file_amd(2, version, NOTES_UUID, notes, notes_rights))
    files = "".join(
        f'<mets:file ID="file-{uuid}" GROUPID="Group-{uuid}" ADMID="amdSec_{n}">'
        f'<mets:FLocat LOCTYPE="OTHER" OTHERLOCTYPE="SYSTEM" xlink:href="objects/{name}"/>'
        "</mets:file>" for n, (uuid, name) in enumerate(((PAGE_UUID, page),
                                                          (NOTES_UUID, notes)), 1))
    pointers = "".join(f'<mets:div TYPE="Item" LABEL="{name}"><mets:fptr FILEID="file-{uuid}"/>'
                       "</mets:div>" for uuid, name in ((PAGE_UUID, page), (NOTES_UUID, notes)))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<mets:mets xmlns:mets="http://www.loc.gov/METS/" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
            '"http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/version1121/mets.xsd">'
            '<mets:metsHdr CREATEDATE="2019-03-04T05:06:07"/>'
            f'{amd}<mets:fileSec><mets:fileGrp USE="original">{files}</mets:fileGrp>'
            '</mets:fileSec><mets:structMap TYPE="physical" ID="structMap_1">'
            f'<mets:div TYPE="Directory" LABEL="objects">{pointers}</mets:div>'
            "</mets:structMap></mets:mets>\n")


def write_aip(root: Path, version: int, page_rights: list[str] | None = None,
              notes_rights: list[str] | None = None) -> Path:
    """The AIP: the copyright statement with a restriction ending 2030-12-31 on the page, a
    licence and a donor agreement on the notes, and a statute linked to a file that is not in
    this AIP; each linked by UUID."""
    if page_rights is None:
        page_rights = [_statement(version, COPYRIGHT_ID, COPYRIGHT, RESTRICTED, PAGE_UUID)]
    if notes_rights is None:
        notes_rights = [_statement(version, LICENSE_ID, LICENSE, GRANTED, NOTES_UUID),
                        _statement(version, DONOR_ID, DONOR, "", NOTES_UUID),
                        _statement(version, STRAY_ID, STATUTE, "", ELSEWHERE_UUID)]
    payload = {f"objects/{name}": text.encode() for name, text in FILES.items()}
    payload[f"METS.{AIP_UUID}.xml"] = _aip_mets(version, page_rights, notes_rights).encode()
    return write_bag(root, payload, version="0.97", algorithms=("sha256",),
                     bag_info=(("Bagging-Date", "2019-03-04"),
                               ("Source-Organization", "Milliy kutubxona")))


def _rights(cli, repo: Path, package_id: str) -> list[dict]:
    result = cli("--repo", repo, "--json", "rights", package_id)
    assert result.code == 0, result.err
    return result.json()["rights"]


def _codes(result) -> list[str]:
    return [f["code"] for f in result.json()["findings"]]


@pytest.mark.parametrize("premis_version", [2, 3])
def test_aip_rights_are_kept_linked_to_their_files_and_survive_a_round_trip(
        cli, repo, tmp_path, premis_version):
    aip = write_aip(tmp_path / "aip", premis_version)
    ingested = cli("--repo", repo, "--json", "ingest", aip, "--id", "aip-r1")
    assert ingested.code == 1, ingested.out + ingested.err  # stored, with warnings
    codes = _codes(ingested)
    assert "IMP-W001" not in codes and "IMP-W002" not in codes  # read as valid METS
    assert ("IMP-W005" in codes) is (premis_version == 2)  # PREMIS 2.2 mapped to 3.0
    assert "IMP-W006" not in codes  # and valid against the PREMIS 2.2 schema
    [stray] = [f for f in ingested.json()["findings"] if f["code"] == "RIGHTS-W001"]
    assert STRAY_ID in stray["message"] and ELSEWHERE_UUID in stray["message"]

    statements = {s["identifier"]: s for s in _rights(cli, repo, "aip-r1")}
    assert set(statements) == {COPYRIGHT_ID, LICENSE_ID, DONOR_ID}
    copyright_ = statements[COPYRIGHT_ID]
    assert copyright_["path"] == "data/objects/Qoʻlyozma/varaq-001.txt"
    assert (copyright_["basis"], copyright_["status"], copyright_["jurisdiction"]) == (
        "copyright", "copyrighted", "uz")
    assert (copyright_["start_date"], copyright_["end_date"]) == ("1990-01-01", "2060-01-01")
    assert (copyright_["act"], copyright_["restriction"], copyright_["act_start_date"],
            copyright_["restriction_end_date"]) == ("Disseminate", "Disallow", "2019-03-01",
                                                    "2030-12-31")
    assert {n["text"] for n in copyright_["notes"]} == {"Held by the author's heirs",
                                                       "Reading room only"}
    licence = statements[LICENSE_ID]
    assert licence["path"] == "data/objects/izoh.txt" and licence["status"] == "CC-BY-4.0"
    assert (licence["act"], licence["restriction"], licence["act_start_date"],
            licence["act_end_date"]) == ("Replicate", "Allow", "2020-01-01", "OPEN")
    donor = statements[DONOR_ID]
    assert donor["basis"] == "donor" and donor["path"] == "data/objects/izoh.txt"
    assert donor["notes"] == [{"text": "Gift of the Navoiy family", "lang": None}]

    # Written as PREMIS 3 in our METS, valid, each linked to its file by logical path.
    mets = cli("--repo", repo, "show", "aip-r1", "--mets").out.encode()
    assert SchemaSet.from_directory(schemas_dir()).validate_mets(mets) == []
    root = etree.fromstring(mets)
    written = {e.findtext(f"{PREMIS3}rightsStatementIdentifier/"
                          f"{PREMIS3}rightsStatementIdentifierValue"):
               (e.findtext(f"{PREMIS3}linkingObjectIdentifier/"
                           f"{PREMIS3}linkingObjectIdentifierType"),
                e.findtext(f"{PREMIS3}linkingObjectIdentifier/"
                           f"{PREMIS3}linkingObjectIdentifierValue"))
               for e in root.iter(f"{PREMIS3}rightsStatement")}
    assert written == {COPYRIGHT_ID: ("preserve logical path", copyright_["path"]),
                       LICENSE_ID: ("preserve logical path", "data/objects/izoh.txt"),
                       DONOR_ID: ("preserve logical path", "data/objects/izoh.txt")}
    assert "info:lc/xmlns/premis-v2" not in mets.decode()

    # Export, ingest elsewhere: the same statements, same identifiers and links.
    out = tmp_path / "out"
    out.mkdir()
    exported = cli("--repo", repo, "--json", "export", "aip-r1", out, "--format", "bag")
    assert exported.code == 0, exported.err
    second = tmp_path / "second"
    assert cli("--repo", second, "init", "--schemas-dir", schemas_dir()).code == 0
    again = cli("--repo", second, "--json", "ingest", exported.json()["path"])
    assert again.code in (0, 1), again.out + again.err
    assert "RIGHTS-W001" not in _codes(again)
    assert _rights(cli, second, "aip-r1") == _rights(cli, repo, "aip-r1")


def test_unmappable_statements_are_findings_not_tracebacks(cli, repo, tmp_path):
    """No basis, an unknown basis, a link to nothing: RIGHTS-W001 each, the package stored
    with what can be mapped (a statement without links governs the package)."""
    no_basis = _statement(2, "00000000-0000-4000-8000-00000000000a", "", RESTRICTED, PAGE_UUID)
    odd_basis = _statement(2, "00000000-0000-4000-8000-00000000000b",
                           "<premis:rightsBasis>Moral</premis:rightsBasis>", "", PAGE_UUID)
    unlinked = _statement(2, "00000000-0000-4000-8000-00000000000c", LICENSE, "",
                          PAGE_UUID).replace(
        f"<premis:linkingObjectIdentifier><premis:linkingObjectIdentifierType>UUID"
        f"</premis:linkingObjectIdentifierType><premis:linkingObjectIdentifierValue>"
        f"{PAGE_UUID}</premis:linkingObjectIdentifierValue></premis:linkingObjectIdentifier>",
        "")
    aip = write_aip(tmp_path / "aip", 2, page_rights=[no_basis, odd_basis, unlinked],
                    notes_rights=[_statement(2, STRAY_ID, STATUTE, "", "not-a-uuid")])
    result = cli("--repo", repo, "--json", "ingest", aip, "--id", "aip-r2")
    assert result.code == 1, result.out + result.err
    assert "Traceback" not in result.err
    messages = [f["message"] for f in result.json()["findings"] if f["code"] == "RIGHTS-W001"]
    assert len(messages) == 3
    assert any("no rightsBasis" in m for m in messages)
    assert any("'Moral'" in m for m in messages)
    assert any("not-a-uuid" in m for m in messages)
    [kept] = _rights(cli, repo, "aip-r2")
    assert kept["identifier"] == "00000000-0000-4000-8000-00000000000c"
    assert kept["path"] is None and kept["basis"] == "license"
    assert json.dumps(kept)  # plain values only
