"""METS/PREMIS end to end: titles in three scripts, `show --mets`, formats, schema policy."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from lxml import etree

from preserve.metadata import SchemaSet
from preserve.metadata.namespaces import DC, METS, PREMIS, XML
from tests.builders import write_bag
from tests.cli.conftest import schemas_dir

NS = {"mets": METS, "dc": DC, "premis": PREMIS}
TITLES = [("Boburnoma", "uz-Latn"), ("Бобурнома", "uz-Cyrl"), ("بابرنامه", "fa-Arab")]
CSV = ("title[uz-Latn],title[uz-Cyrl],title[fa-Arab],creator,date,language\n"
       "Boburnoma,Бобурнома,بابرنامه,Zahiriddin Muhammad Bobur,1530,chg\n")


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def bag_with_descriptive_csv(root: Path, files: dict[str, bytes], csv_text: str = CSV,
                             extra: dict[str, bytes] | None = None) -> Path:
    bag = write_bag(root, files, bag_info=[("Source-Organization", "Milliy kutubxona"),
                                           ("Contact-Name", "Dilnoza Karimova")],
                    tag_manifests=False)
    (bag / "metadata").mkdir()
    (bag / "metadata" / "descriptive.csv").write_text(csv_text, encoding="utf-8")
    tags = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt",
            "metadata/descriptive.csv"]
    for name, data in (extra or {}).items():
        (bag / name).write_bytes(data)
        tags.append(name)
    for algorithm in ("sha256", "sha512"):
        (bag / f"tagmanifest-{algorithm}.txt").write_text("".join(
            f"{hashlib.new(algorithm, (bag / t).read_bytes()).hexdigest()}  {t}\n" for t in tags),
            encoding="utf-8")
    return bag


@pytest.fixture
def schemas() -> SchemaSet:
    found = schemas_dir()
    if found is None:
        pytest.fail("the official XSDs are needed: set PRESERVE_SCHEMAS")
    return SchemaSet.from_directory(found)


def test_titles_in_three_scripts_in_show_and_in_the_valid_stored_mets(cli, repo, tmp_path,
                                                                      schemas):
    files = {"Qoʻlyozma/varaq 1.png": png(), "Қўлёзма/бет 1.txt": "Бобурнома\n".encode()}
    bag = bag_with_descriptive_csv(tmp_path / "bag", files)
    result = cli("--repo", repo, "--json", "ingest", "--id", "bobur", bag)
    assert result.code == 0, result.out + result.err

    shown = cli("--repo", repo, "--json", "show", "bobur").json()
    assert [(t["title"], t["lang"]) for t in shown["titles"]] == TITLES
    formats = {f["path"]: f["format"] for f in shown["files"]}
    assert formats["data/Qoʻlyozma/varaq 1.png"] in {"fmt/11", "fmt/12", "fmt/13"}
    assert formats["data/Қўлёзма/бет 1.txt"] == "x-fmt/111"
    assert "format identification" in {e["type"] for e in shown["events"]}
    text = cli("--repo", repo, "show", "bobur").out
    assert all(title in text for title, _lang in TITLES)

    mets = cli("--repo", repo, "show", "bobur", "--mets")
    assert mets.code == 0
    document = mets.out.encode()
    assert schemas.validate_mets(document) == []
    assert schemas.validate_mets_independently(document) == []
    root = etree.fromstring(document)
    titles = [(t.text, t.get(f"{{{XML}}}lang")) for t in root.iterfind(".//dc:title", NS)]
    assert all(pair in titles for pair in TITLES)
    keys = root.xpath("//premis:formatRegistryKey/text()", namespaces=NS)
    assert sorted(keys) == sorted(formats[p] for p in formats if p.startswith("data/"))
    agents = root.xpath("//premis:agent/premis:agentName/text()", namespaces=NS)
    assert {"Milliy kutubxona", "Dilnoza Karimova"} <= set(agents)
    names = root.xpath("//premis:originalName/text()", namespaces=NS)
    assert sorted(names) == sorted("data/" + p for p in files)


def test_later_versions_carry_every_event_and_show_any_version(cli, repo, tmp_path):
    first = bag_with_descriptive_csv(tmp_path / "one", {"a.txt": b"first\n"})
    assert cli("--repo", repo, "ingest", "--id", "pkg", first).code == 0
    second = bag_with_descriptive_csv(tmp_path / "two", {"a.txt": b"second\n"})
    assert cli("--repo", repo, "ingest", "--as-version-of", "pkg", second).code == 0

    def events(*args: str) -> list[str]:
        root = etree.fromstring(cli("--repo", repo, "show", "pkg", "--mets", *args).out.encode())
        return root.xpath("//premis:event/premis:eventType/text()", namespaces=NS)

    assert len(events("--version", "1")) == 4
    assert events() == events("--version", "2")
    assert len(events()) == 8 and events()[:4] == events("--version", "1")
    assert cli("--repo", repo, "show", "pkg", "--mets", "--version", "3").code == 13
    assert cli("--repo", repo, "show", "pkg", "--version", "1").code == 2
    assert cli("--repo", repo, "show", "nothing", "--mets").code == 2


def test_bad_language_tags_are_warnings_and_no_schemas_is_a_warning_or_an_error(
        cli, tmp_path, monkeypatch):
    monkeypatch.delenv("PRESERVE_SCHEMAS", raising=False)
    home = tmp_path / "plain"
    assert cli("--repo", home, "init").code == 0
    bag = bag_with_descriptive_csv(tmp_path / "bag", {"a.txt": b"x\n"},
                                   "title[uz_Cyrl],titel\nБобурнома,x\n")
    result = cli("--repo", home, "--json", "ingest", bag)
    assert result.code == 1
    assert sorted(f["code"] for f in result.json()["findings"]) == [
        "META-W001", "META-W002", "META-W004"]
    package_id = result.json()["package_id"]
    log = cli("--repo", home, "--json", "log", package_id).json()["events"]
    assert "schema validation skipped" in log[0]["detail"]

    monkeypatch.setenv("PRESERVE_SCHEMAS_REQUIRED", "true")
    other = bag_with_descriptive_csv(tmp_path / "other", {"b.txt": b"y\n"})
    refused = cli("--repo", home, "ingest", other)
    assert refused.code == 10
    assert "schemas.required" in refused.err


MODS_DOC = ('<mods xmlns="http://www.loc.gov/mods/v3" version="3.8"><titleInfo lang="uzb" '
            'script="Cyrl"><title>Бобурнома</title></titleInfo></mods>').encode()


def test_supplied_mods_is_embedded_and_invalid_mods_is_a_warning(cli, repo, tmp_path):
    good = bag_with_descriptive_csv(tmp_path / "good", {"a.txt": b"a\n"},
                                    extra={"metadata/mods.xml": MODS_DOC})
    assert cli("--repo", repo, "ingest", "--id", "with-mods", good).code == 0
    root = etree.fromstring(cli("--repo", repo, "show", "with-mods", "--mets").out.encode())
    assert root.find("mets:dmdSec[@ID='dmd-mods']", NS) is not None

    bad = bag_with_descriptive_csv(tmp_path / "bad", {"b.txt": b"b\n"}, extra={
        "metadata/mods.xml": MODS_DOC.replace(b"titleInfo", b"titelInfo")})
    result = cli("--repo", repo, "--json", "ingest", "--id", "bad-mods", bad)
    assert result.code == 1
    assert [f["code"] for f in result.json()["findings"]] == ["META-W005"]
    root = etree.fromstring(cli("--repo", repo, "show", "bad-mods", "--mets").out.encode())
    assert root.find("mets:dmdSec[@ID='dmd-mods']", NS) is None


def test_mets_event_identifiers_are_the_catalog_event_identifiers(cli, repo, tmp_path):
    first = bag_with_descriptive_csv(tmp_path / "one", {"a.txt": b"first\n"})
    assert cli("--repo", repo, "ingest", "--id", "ids", first).code == 0
    second = bag_with_descriptive_csv(tmp_path / "two", {"a.txt": b"second\n"})
    assert cli("--repo", repo, "ingest", "--as-version-of", "ids", second).code == 0
    catalog_ids = [e["identifier"] for e in cli("--repo", repo, "--json", "log", "ids").json()["events"]]
    root = etree.fromstring(cli("--repo", repo, "show", "ids", "--mets").out.encode())
    mets_ids = root.xpath("//premis:event/premis:eventIdentifier/premis:eventIdentifierValue/text()",
                          namespaces=NS)
    assert len(catalog_ids) == 8 and mets_ids == catalog_ids
