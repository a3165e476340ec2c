"""Rights statements (issue 16 §1): read from a deposit (metadata/rights.csv, bag-info
labels) and from an imported package's PREMIS, written as PREMIS 3 rightsStatements in the
METS rightsMD, shown, exported, carried forward, added later (`rights ID --add`)."""

from __future__ import annotations

import json
from pathlib import Path

import bagit
from lxml import etree

from preserve.metadata.schemas import SchemaSet
from tests.builders import MULTILINGUAL, write_bag
from tests.cli.conftest import schemas_dir
from tests.unit.storage.ocfl_oracle import validate_root

RIGHTS = (
    "path,basis,status,jurisdiction,citation,start_date,end_date,act,restriction,"
    "restriction_end_date,note,note[uz-Cyrl],note[fa]\n"
    ",copyright,copyrighted,uz,,1990,2060-01-01,disseminate,Disallow,2030-12-31,"
    "Reading room only,Фақат ўқув залида,فقط در سالن مطالعه\n"
    "Қолжазбалар/бет-1.txt,license,CC-BY-4.0,,,2020-05,,,,,,,\n"
    ",statute,,kz,Law on the National Archival Fund art. 12,,,replicate,Allow,,,,\n"
    ",donor,,,,,OPEN,,,,Gift of the Navoiy family,,\n")
PREMIS = "{http://www.loc.gov/premis/v3}"
CSV = ("title,title[uz-Cyrl],creator\n"
       "Qoʻlyozmalar toʻplami,Қўлёзмалар тўплами,Alisher Navoiy\n")


def _object_dir(repo: Path, package_id: str) -> Path:
    for inventory in (repo / "ocfl").rglob("inventory.json"):
        data = json.loads(inventory.read_text("utf-8"))
        if data.get("id") == package_id and inventory.parent.name[:1] != "v":
            return inventory.parent
    raise AssertionError(f"{package_id} not in storage")


def _head_as_bag(object_dir: Path, dest: Path) -> Path:
    """The head version's logical state copied out through its inventory (for bagit-python)."""
    inventory = json.loads((object_dir / "inventory.json").read_text("utf-8"))
    for digest, paths in inventory["versions"][inventory["head"]]["state"].items():
        for logical in paths:
            target = dest / logical
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((object_dir / inventory["manifest"][digest][0]).read_bytes())
    return dest


def _bag(root: Path, rights: str | None, bag_info=()) -> Path:
    bag = write_bag(root, MULTILINGUAL, tag_manifests=False,
                    bag_info=[("Source-Organization", "Milliy kutubxona"), *bag_info])
    if rights is not None:
        (bag / "metadata").mkdir()
        (bag / "metadata" / "rights.csv").write_text(rights, encoding="utf-8")
    return bag


def _rights(cli, repo: Path, package_id: str) -> list[dict]:
    result = cli("--repo", repo, "--json", "rights", package_id)
    assert result.code == 0, result.err
    return result.json()["rights"]


def _without_ids(statements: list[dict]) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "identifier"} for s in statements]


def test_rights_from_csv_and_bag_info_are_premis_3_in_the_mets(cli, repo, tmp_path):
    bag = _bag(tmp_path / "bag", RIGHTS, bag_info=[("License", "CC-BY-4.0"),
                                                   ("Access-Restriction", "Closed until 2030")])
    assert cli("--repo", repo, "ingest", bag, "--id", "uz-r1").code == 0
    statements = _rights(cli, repo, "uz-r1")
    assert [s["basis"] for s in statements] == ["license", "policy", "copyright", "license",
                                                "statute", "donor"]
    copyright_ = statements[2]
    assert copyright_["path"] is None and copyright_["jurisdiction"] == "uz"
    assert copyright_["restriction_end_date"] == "2030-12-31"
    assert {(n["text"], n["lang"]) for n in copyright_["notes"]} == {
        ("Reading room only", None), ("Фақат ўқув залида", "uz-Cyrl"),
        ("فقط در سالن مطالعه", "fa")}
    assert statements[3]["path"] == "data/Қолжазбалар/бет-1.txt"
    assert statements[5]["end_date"] == "OPEN"
    shown = cli("--repo", repo, "--json", "show", "uz-r1").json()
    assert shown["rights"] == statements
    assert "Фақат ўқув залида" in cli("--repo", repo, "show", "uz-r1").out
    mets = cli("--repo", repo, "show", "uz-r1", "--mets").out.encode()
    schemas = SchemaSet.from_directory(schemas_dir())
    assert schemas.validate_mets(mets) == []
    root = etree.fromstring(mets)
    rights_md = root.findall(".//{http://www.loc.gov/METS/}rightsMD")
    assert len(rights_md) == 1
    links = [e.findtext(f"{PREMIS}linkingObjectIdentifierValue")
             for e in root.iter(f"{PREMIS}linkingObjectIdentifier")
             if e.getparent().tag == f"{PREMIS}rightsStatement"]
    assert links.count("uz-r1") == 5 and "data/Қолжазбалар/бет-1.txt" in links
    # schema order: techMD*, rightsMD*, digiprovMD*
    sections = [etree.QName(e).localname for e in root.find("{http://www.loc.gov/METS/}amdSec")]
    assert sections.index("rightsMD") > max(i for i, s in enumerate(sections) if s == "techMD")
    assert sections.index("rightsMD") < sections.index("digiprovMD")


def test_rights_round_trip_through_export_and_a_second_repository(cli, repo, tmp_path):
    assert cli("--repo", repo, "-q", "ingest", _bag(tmp_path / "bag", RIGHTS), "--id",
               "kz-r1").code == 0
    first = _rights(cli, repo, "kz-r1")
    out = tmp_path / "out"
    out.mkdir()
    exported = cli("--repo", repo, "--json", "export", "kz-r1", out, "--format", "bag")
    assert exported.code == 0, exported.err
    second = tmp_path / "second"
    assert cli("--repo", second, "init", "--schemas-dir", schemas_dir()).code == 0
    ingested = cli("--repo", second, "--json", "ingest", exported.json()["path"])
    assert ingested.code == 0, ingested.out + ingested.err
    assert _rights(cli, second, "kz-r1") == first  # the same statements, same identifiers
    eark = cli("--repo", repo, "--json", "export", "kz-r1", out, "--format", "eark")
    assert eark.code == 0, eark.err
    premis = Path(eark.json()["path"]) / "metadata" / "preservation" / "premis.xml"
    statements = etree.parse(str(premis)).getroot().findall(f".//{PREMIS}rightsStatement")
    assert len(statements) == 4
    third = tmp_path / "third"
    assert cli("--repo", third, "init", "--schemas-dir", schemas_dir()).code == 0
    assert cli("--repo", third, "ingest", eark.json()["path"]).code == 0
    assert _rights(cli, third, "kz-r1") == first  # read back from the E-ARK PREMIS


def test_rights_carry_forward_to_new_versions(cli, repo, tmp_path):
    assert cli("--repo", repo, "-q", "ingest", _bag(tmp_path / "v1", RIGHTS), "--id",
               "tk-r1").code == 0
    first = _rights(cli, repo, "tk-r1")
    v2 = write_bag(tmp_path / "v2", {**MULTILINGUAL, "täze.txt": b"new\n"})
    assert cli("--repo", repo, "ingest", v2, "--as-version-of", "tk-r1").code == 0
    assert _rights(cli, repo, "tk-r1") == first
    csv = tmp_path / "d.csv"
    csv.write_text(CSV, encoding="utf-8")
    assert cli("--repo", repo, "describe", "tk-r1", "--metadata", csv).code == 0
    assert _rights(cli, repo, "tk-r1") == first


def test_bad_rows_are_refused_with_codes_and_nothing_is_stored(cli, repo, tmp_path):
    header = "path,basis,start_date\n"
    for rows, code in ((",salvage,\n", "RIGHTS-E003"), (",copyright,2024-02-30\n", "RIGHTS-E004"),
                       ("yoʻq.txt,license,\n", "RIGHTS-E005")):
        bag = _bag(tmp_path / code, header + rows)
        result = cli("--repo", repo, "--json", "ingest", bag)
        assert result.code == 11, (code, result.out)
        assert code in {f["code"] for f in result.json()["findings"]}
    unknown = _bag(tmp_path / "col", "basis,colour\ncopyright,red\n")
    result = cli("--repo", repo, "--json", "ingest", unknown)
    assert result.code == 11 and "RIGHTS-E002" in {f["code"] for f in result.json()["findings"]}
    assert cli("--repo", repo, "--json", "list").json()["packages"] == []
    assert not list((repo / "ocfl").rglob("inventory.json"))


def test_rights_add_makes_a_metadata_only_version(cli, repo, tmp_path):
    assert cli("--repo", repo, "-q", "ingest", _bag(tmp_path / "v1", None), "--id",
               "ru-r1").code == 0
    assert _rights(cli, repo, "ru-r1") == []
    extra = tmp_path / "права.csv"
    extra.write_text(RIGHTS, encoding="utf-8")
    added = cli("--repo", repo, "--json", "rights", "ru-r1", "--add", extra)
    assert added.code == 0, added.out + added.err
    assert (added.json()["version"], added.json()["statements"]) == (2, 4)
    assert added.json()["payload_copied_bytes"] == 0
    statements = _rights(cli, repo, "ru-r1")
    assert _without_ids(statements) == _without_ids(added.json()["added"])
    shown = cli("--repo", repo, "--json", "show", "ru-r1").json()
    assert [e["type"] for e in shown["events"]].count("metadata modification") == 1
    object_dir = _object_dir(repo, "ru-r1")
    new = [p.relative_to(object_dir / "v2" / "content").as_posix()
           for p in (object_dir / "v2" / "content").rglob("*") if p.is_file()]
    assert "metadata/rights/права.csv" in new and not [p for p in new if p.startswith("data/")]
    again = tmp_path / "more.csv"
    again.write_text("basis,note[tk]\npolicy,Diňe okalga\n", encoding="utf-8")
    assert cli("--repo", repo, "rights", "ru-r1", "--add", again).code == 0
    assert len(_rights(cli, repo, "ru-r1")) == 5
    bad = tmp_path / "bad.csv"
    bad.write_text("path,basis\nnone.txt,copyright\n", encoding="utf-8")
    refused = cli("--repo", repo, "--json", "rights", "ru-r1", "--add", bad)
    assert refused.code == 11
    assert "RIGHTS-E005" in {f["code"] for f in refused.json()["findings"]}
    assert len(cli("--repo", repo, "--json", "show", "ru-r1").json()["versions"]) == 3
    assert validate_root(repo / "ocfl").valid
    bagit.Bag(str(_head_as_bag(object_dir, tmp_path / "head"))).validate()
    inventory = json.loads((object_dir / "inventory.json").read_text("utf-8"))
    assert inventory["head"] == "v3"
    assert cli("--repo", repo, "check").code == 0
