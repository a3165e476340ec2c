"""Archivematica AIPs keep their history; PREMIS 2.x is mapped, not dropped (issue 12 §2, §3).

The AIPs are built by `tests.builders.write_archivematica_aip`: a BagIt 0.97 bag holding
data/objects/… and data/METS.<uuid>.xml with PREMIS 2.2 (or 3.0) events and agents.
"""

from __future__ import annotations

import pytest
from lxml import etree

from tests.builders import AIP_EVENTS, write_archivematica_aip
from tests.export.test_export import unpack
from tests.export.test_round_trip import events_in

FILES = {"Qoʻlyozma/varaq 001.tif": b"II*\x00page", "hujjat.txt": b"matn\n"}


def codes_of(result) -> list[str]:
    return [f["code"] for f in result.json()["findings"]]


@pytest.mark.parametrize("premis_version", [2, 3])
def test_aip_history_is_imported_with_original_identifiers_and_dates(
        cli, repo, tmp_path, premis_version):
    aip = write_archivematica_aip(tmp_path / "aip", FILES, premis_version=premis_version)
    result = cli("--repo", repo, "--json", "ingest", aip, "--id", "aip-1")
    assert result.code == 1, result.out  # stored, with the warnings naming the dialect
    found = codes_of(result)
    assert "IMP-W007" in found and "IMP-W001" not in found and "IMP-W002" not in found
    assert ("IMP-W005" in found) is (premis_version == 2)
    assert "IMP-W006" not in found

    exported = cli("--repo", repo, "--json", "export", "aip-1", tmp_path / "out")
    assert exported.code == 0, exported.out
    path = exported.json()["path"]
    bag = unpack(tmp_path / "out" / path, tmp_path / "unpacked") if not (
        tmp_path / "out" / path).is_dir() else tmp_path / "out" / path
    carried = events_in(bag / "metadata" / "mets.xml")
    for identifier, kind, time, _detail, _outcome in AIP_EVENTS:
        assert carried[identifier]["type"] == kind
        assert carried[identifier]["time"] == time
        assert carried[identifier]["id_type"] == "UUID"
        assert carried[identifier]["agent"] == "Archivematica-1.4.1"
    # the objects keep their names, byte-exact, and the AIP's METS is kept as received
    for name, content in FILES.items():
        assert (bag / "data" / "objects" / name).read_bytes() == content
    assert (bag / "data" / "METS.0b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d.xml").is_file()
    # and the AIP's original names and PRONOM ids are kept in the METS stored at ingest
    [stored] = [m for m in (repo / "ocfl").rglob("mets.xml") if m.parent.name == "metadata"]
    mets = etree.parse(str(stored))
    p = {"p": "http://www.loc.gov/premis/v3"}
    originals = set(mets.xpath("//p:object/p:originalName/text()", namespaces=p))
    assert {f"%transferDirectory%objects/{name}" for name in FILES} <= originals
    for name in FILES:
        [obj] = mets.xpath("//p:object[p:originalName = $n]", namespaces=p,
                           n=f"%transferDirectory%objects/{name}")
        fmt = obj.find("p:objectCharacteristics/p:format", p)
        keys = fmt.xpath("p:formatRegistry/p:formatRegistryKey/text()", namespaces=p)
        assert "fmt/353" in keys or "fmt/353" in (fmt.findtext("p:formatNote", "", p))


def test_invalid_premis_2_is_imported_with_a_warning(cli, repo, tmp_path):
    aip = write_archivematica_aip(tmp_path / "aip", FILES, valid=False)
    result = cli("--repo", repo, "--json", "ingest", aip, "--id", "aip-2")
    assert result.code == 1, result.out
    assert {"IMP-W005", "IMP-W006", "IMP-W007"} <= set(codes_of(result))
    events = cli("--repo", repo, "--json", "log", "aip-2").json()["events"]
    assert {e["type"] for e in events} >= {kind for _, kind, *_ in AIP_EVENTS}


def test_a_bag_without_an_aip_mets_is_not_archivematica(cli, repo, tmp_path):
    aip = write_archivematica_aip(tmp_path / "aip", FILES, uuid="not-a-uuid")
    result = cli("--repo", repo, "--json", "ingest", aip)
    assert result.code in (0, 1) and "IMP-W007" not in codes_of(result)


def test_validate_recognises_the_aip(cli, tmp_path):
    aip = write_archivematica_aip(tmp_path / "aip", FILES)
    result = cli("--json", "validate", aip)
    assert result.code == 1, result.out
    assert {"IMP-W005", "IMP-W007"} <= set(codes_of(result))
