"""`preserve describe ID --metadata FILE` and `ingest --metadata FILE` (issue 16 §3): a
metadata-only version copies no payload, carries the history, and passes the oracles."""

from __future__ import annotations

import re
from pathlib import Path

import bagit
import pytest

from preserve.catalog import Catalog, sqlite_url
from preserve.storage import layout
from tests.builders import MULTILINGUAL, write_bag
from tests.integration.test_oracles import extract_version
from tests.unit.storage.ocfl_oracle import validate_root

PACKAGE = "qoʻlyozma-1"
CSV = ("title[uz-Cyrl],title[fa-Arab],title[kk],subject[ru]\n"
       "Янги сарлавҳа,عنوان تازه,Жаңа тақырып,Рукописи\n")
DC = ('<dc xmlns:dc="http://purl.org/dc/elements/1.1/">'
      '<dc:title xml:lang="tk">Golýazmalar</dc:title><dc:creator>Navoiy</dc:creator></dc>')
MODS = ('<mods xmlns="http://www.loc.gov/mods/v3" version="3.7"><titleInfo>'
        '<title>Ўзбек қўлёзмалари</title></titleInfo></mods>')


def _ingest(cli, repo: Path, tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "deposit", MULTILINGUAL)
    result = cli("--repo", repo, "ingest", bag, "--id", PACKAGE)
    assert result.code == 0, result.err


def _object(repo: Path) -> Path:
    return repo / "ocfl" / layout.object_path_for(PACKAGE)


def test_describe_makes_a_metadata_only_version(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    metadata = tmp_path / "tavsif.csv"
    metadata.write_text(CSV, encoding="utf-8")
    result = cli("--repo", repo, "--json", "describe", PACKAGE, "--metadata", metadata)
    assert result.code == 0, result.err
    document = result.json()
    assert (document["version"], document["kind"]) == (2, "csv")
    assert document["title"] == "Янги сарлавҳа"
    # Not one payload byte was copied: v2's content holds only what this version made.
    written = sorted(p.relative_to(_object(repo) / "v2" / "content").as_posix()
                     for p in (_object(repo) / "v2" / "content").rglob("*") if p.is_file())
    assert not [p for p in written if p.startswith("data/")]
    assert "metadata/description/descriptive.csv" in written
    assert "metadata/mets.xml" in written
    mets = cli("--repo", repo, "show", PACKAGE, "--mets").out
    assert 'xml:lang="fa-Arab">عنوان تازه<' in mets
    assert 'xml:lang="kk">Жаңа тақырып<' in mets
    assert "metadata modification" in mets and ">ingestion<" in mets  # the whole history
    # Each file's original name, PRONOM format and MIME type are carried from v1's METS.
    first = cli("--repo", repo, "show", PACKAGE, "--mets", "--version", "1").out
    facts = re.compile(r"originalName>[^<]*|formatRegistryKey>[^<]*|formatName>[^<]*"
                       r'|MIMETYPE="[^"]*"')
    assert sorted(facts.findall(mets)) == sorted(facts.findall(first))
    assert facts.findall(mets)
    # and the catalog's PRONOM names too (issue 16 §6: `preserve report` reads them there)
    with Catalog(sqlite_url(repo / "catalog.sqlite")) as catalog:
        rows = catalog.get_package(PACKAGE).files
    named = {v: {(f.path, f.format, f.format_name) for f in rows
                 if f.version == v and f.path.startswith("data/")} for v in (1, 2)}
    assert named[2] == named[1] and named[2]
    assert all(name for _path, puid, name in named[2] if puid)
    shown = cli("--repo", repo, "--json", "show", PACKAGE).json()
    assert shown["title"] == "Янги сарлавҳа"
    assert len(shown["versions"]) == 2
    events = [e["type"] for e in cli("--repo", repo, "--json", "log", PACKAGE).json()["events"]]
    assert events[-1] == "metadata modification"
    # The oracles: OCFL, and bagit-python on v2's logical state; our own audit.
    assert validate_root(repo / "ocfl").valid
    bag = bagit.Bag(str(extract_version(_object(repo), "v2", tmp_path / "v2-state")))
    assert bag.is_valid()
    assert sorted(bag.payload_entries()) == sorted(f"data/{name}" for name in MULTILINGUAL)
    assert cli("--repo", repo, "audit", "--all").code == 0
    assert cli("--repo", repo, "log", "verify").code == 0


@pytest.mark.parametrize(("name", "text", "kind", "expected"), [
    ("dc.xml", DC, "dc", 'xml:lang="tk">Golýazmalar<'),
    ("mods.xml", MODS, "mods", "Ўзбек қўлёзмалари"),
])
def test_describe_takes_dublin_core_or_mods(cli, repo, tmp_path, name, text, kind, expected):
    _ingest(cli, repo, tmp_path)
    metadata = tmp_path / name
    metadata.write_text(text, encoding="utf-8")
    result = cli("--repo", repo, "--json", "describe", PACKAGE, "--metadata", metadata)
    assert result.code == 0, result.err
    assert result.json()["kind"] == kind
    assert expected in cli("--repo", repo, "show", PACKAGE, "--mets").out
    assert validate_root(repo / "ocfl").valid


@pytest.mark.parametrize(("name", "content"), [
    ("empty.csv", "title\n"),  # no value at all
    ("bad.xml", "<dc:title xmlns:dc='http://purl.org/dc/elements/1.1/'>unclosed"),
    ("entity.xml", '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'),
    ("broken.csv", b"title\n\xff\xfe\xfa\n"),
])
def test_unusable_metadata_is_refused_and_nothing_is_stored(cli, repo, tmp_path, name, content):
    _ingest(cli, repo, tmp_path)
    metadata = tmp_path / name
    if isinstance(content, bytes):
        metadata.write_bytes(content)
    else:
        metadata.write_text(content, encoding="utf-8")
    before = sorted(p.name for p in _object(repo).iterdir())
    result = cli("--repo", repo, "--json", "describe", PACKAGE, "--metadata", metadata)
    assert result.code == 11, result.out + result.err
    assert [f["code"] for f in result.json()["findings"]] == ["META-E001"]
    assert "Traceback" not in result.err
    assert sorted(p.name for p in _object(repo).iterdir()) == before
    assert len(cli("--repo", repo, "--json", "show", PACKAGE).json()["versions"]) == 1


def test_describe_an_unknown_package_is_a_usage_error(cli, repo, tmp_path):
    metadata = tmp_path / "d.csv"
    metadata.write_text(CSV, encoding="utf-8")
    result = cli("--repo", repo, "describe", "no-such-package", "--metadata", metadata)
    assert result.code == 2 and "Traceback" not in result.err


def test_describe_replicates_the_new_version(cli, repo, tmp_path):
    vault = tmp_path / "vault" / "ocfl"
    assert cli("--repo", repo, "locations", "add", "vault", "--kind", "local", "--path",
               vault).code == 0
    settings = repo / "preserve.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "\ncopies = 1\n", "\ncopies = 2\n"), encoding="utf-8")
    _ingest(cli, repo, tmp_path)
    metadata = tmp_path / "d.csv"
    metadata.write_text(CSV, encoding="utf-8")
    result = cli("--repo", repo, "--json", "describe", PACKAGE, "--metadata", metadata)
    assert result.code == 0, result.err
    assert result.json()["replication"]["made"]
    assert validate_root(vault).valid
    assert (vault / layout.object_path_for(PACKAGE) / "v2" / "inventory.json").is_file()
    assert cli("--repo", repo, "audit", "--all", "--location", "vault").code == 0


def test_ingest_metadata_describes_a_plain_folder(cli, repo, tmp_path):
    folder = tmp_path / "Qoʻlyozmalar"
    (folder / "sahifalar").mkdir(parents=True)
    (folder / "sahifalar" / "варақ 1.txt").write_text("бир\n", encoding="utf-8")
    metadata = tmp_path / "tavsif.csv"
    metadata.write_text(CSV, encoding="utf-8")
    result = cli("--repo", repo, "--json", "ingest", folder, "--id", "folder-1",
                 "--metadata", metadata)
    assert result.code == 0, result.err
    shown = cli("--repo", repo, "--json", "show", "folder-1").json()
    assert shown["title"] == "Янги сарлавҳа"  # not the folder's name
    paths = {f["path"] for f in shown["files"]}
    assert "metadata/description/descriptive.csv" in paths
    assert "data/sahifalar/варақ 1.txt" in paths
    assert 'xml:lang="kk">Жаңа тақырып<' in cli("--repo", repo, "show", "folder-1", "--mets").out


def test_ingest_metadata_wins_over_the_deposits_own_and_says_so(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "deposit", MULTILINGUAL)
    (bag / "metadata").mkdir()
    (bag / "metadata" / "descriptive.csv").write_text("title[ru]\nСтарое\n", encoding="utf-8")
    metadata = tmp_path / "dc.xml"
    metadata.write_text(DC, encoding="utf-8")
    result = cli("--repo", repo, "--json", "ingest", bag, "--id", "both", "--metadata", metadata)
    assert result.code == 1, result.err  # stored, with the warning
    assert "META-W007" in [f["code"] for f in result.json()["findings"]]
    mets = cli("--repo", repo, "show", "both", "--mets").out
    assert "Golýazmalar" in mets and "Старое" not in mets


def test_ingest_with_unusable_metadata_stores_nothing(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "deposit", MULTILINGUAL)
    metadata = tmp_path / "empty.csv"
    metadata.write_text("title\n", encoding="utf-8")
    result = cli("--repo", repo, "--json", "ingest", bag, "--id", "nope", "--metadata", metadata)
    assert result.code == 11, result.out
    assert [f["code"] for f in result.json()["findings"]] == ["META-E001"]
    assert not any((repo / "ocfl").rglob("0=ocfl_object_1.1"))
    missing = cli("--repo", repo, "ingest", bag, "--metadata", tmp_path / "absent.csv")
    assert missing.code == 2 and "Traceback" not in missing.err


def test_describe_without_schemas_warns_as_ingest_does(cli, repo, tmp_path, monkeypatch):
    _ingest(cli, repo, tmp_path)
    settings = repo / "preserve.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text("\n".join(line for line in text.splitlines()
                                  if not line.startswith("dir =")) + "\n", encoding="utf-8")
    monkeypatch.delenv("PRESERVE_SCHEMAS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-cache"))
    metadata = tmp_path / "d.csv"
    metadata.write_text(CSV, encoding="utf-8")
    result = cli("--repo", repo, "--json", "describe", PACKAGE, "--metadata", metadata)
    assert result.code == 1, result.out + result.err  # stored, with the warning
    assert [f["code"] for f in result.json()["findings"]] == ["META-W004"]
    assert result.json()["version"] == 2
