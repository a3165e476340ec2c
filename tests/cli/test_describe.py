"""`preserve describe ID --metadata FILE` and `ingest --metadata FILE` (issue 16 §3)."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path

import bagit

from tests.builders import MULTILINGUAL, write_bag, write_folder
from tests.unit.storage.ocfl_oracle import validate_root

CSV = ("title,title[uz-Cyrl],title[fa-Arab],creator\n"
       "Qoʻlyozmalar toʻplami,Қўлёзмалар тўплами,مجموعه نسخه‌های خطی,Alisher Navoiy\n")
DC = ('<?xml version="1.0" encoding="UTF-8"?>\n'
      '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
      '<dc:title xml:lang="kk">Қолжазбалар жинағы</dc:title>'
      '<dc:title xml:lang="tk">Golýazmalar</dc:title><dc:subject>Poeziýa</dc:subject>'
      '</metadata>\n')
MODS = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<mods xmlns="http://www.loc.gov/mods/v3" version="3.8">'
        '<titleInfo lang="rus"><title>Рукописи Бухары</title></titleInfo></mods>\n')


def _package(cli, repo: Path, tmp_path: Path, package_id: str) -> Path:
    bag = write_bag(tmp_path / package_id, MULTILINGUAL,
                    bag_info=[("Source-Organization", "Milliy kutubxona"),
                              ("Title", "Eski nom")])
    assert cli("--repo", repo, "-q", "ingest", bag, "--id", package_id).code == 0
    return bag


def _object_dir(repo: Path, package_id: str) -> Path:
    for inventory in (repo / "ocfl").rglob("inventory.json"):
        data = json.loads(inventory.read_text("utf-8"))
        if data.get("id") == package_id and inventory.parent.name[:1] != "v":
            return inventory.parent
    raise AssertionError(f"{package_id} not in storage")


def _head_as_bag(object_dir: Path, dest: Path) -> Path:
    inventory = json.loads((object_dir / "inventory.json").read_text("utf-8"))
    for digest, paths in inventory["versions"][inventory["head"]]["state"].items():
        for logical in paths:
            target = dest / logical
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((object_dir / inventory["manifest"][digest][0]).read_bytes())
    return dest


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_describe_with_csv_makes_a_metadata_only_version(cli, repo, tmp_path):
    _package(cli, repo, tmp_path, "uz-1")
    csv = _write(tmp_path / "тавсиф.csv", CSV)
    result = cli("--repo", repo, "--json", "describe", "uz-1", "--metadata", csv)
    assert result.code == 0, result.err
    document = result.json()
    assert (document["version"], document["previous_version"]) == (2, 1)
    assert document["metadata"]["kind"] == "csv"
    shown = cli("--repo", repo, "--json", "show", "uz-1").json()
    assert shown["title"] == "Qoʻlyozmalar toʻplami"
    v1 = {f["path"]: f["sha512"] for f in shown["files"] if f["version"] == 1}
    v2 = {f["path"]: f["sha512"] for f in shown["files"] if f["version"] == 2}
    payload = {p for p in v1 if p.startswith("data/")}
    assert payload and {p: v2[p] for p in payload} == {p: v1[p] for p in payload}
    assert "metadata/supplied/тавсиф.csv" in v2
    assert "metadata modification" in {e["type"] for e in shown["events"]}
    mets = cli("--repo", repo, "show", "uz-1", "--mets").out
    for text in ('xml:lang="uz-Cyrl">Қўлёзмалар тўплами<', 'xml:lang="fa-Arab">مجموعه نسخه‌های خطی<',
                 "Alisher Navoiy", "metadata modification", "ingestion"):
        assert text in mets
    assert ">Eski nom<" in mets  # bag-info's Title stays, as in every version
    object_dir = _object_dir(repo, "uz-1")
    report = validate_root(repo / "ocfl")
    assert report.valid, report.messages
    bagit.Bag(str(_head_as_bag(object_dir, tmp_path / "head"))).validate()
    assert cli("--repo", repo, "check").code == 0


def test_no_payload_byte_is_copied_or_read(cli, repo, tmp_path, monkeypatch):
    _package(cli, repo, tmp_path, "uz-2")
    object_dir = _object_dir(repo, "uz-2")
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def watched_open(file, *args, **kwargs):  # observes, the real call does the work
        opened.append(os.fsdecode(file) if isinstance(file, (str, bytes, os.PathLike)) else "")
        return real_open(file, *args, **kwargs)

    def watched_os_open(path, *args, **kwargs):
        opened.append(os.fsdecode(path))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watched_open)
    monkeypatch.setattr(os, "open", watched_os_open)
    csv = _write(tmp_path / "d.csv", CSV)
    assert cli("--repo", repo, "describe", "uz-2", "--metadata", csv).code == 0
    monkeypatch.undo()
    payload_dir = str(object_dir / "v1" / "content" / "data")
    assert not [p for p in opened if p.startswith(payload_dir)], "payload was read"
    new_files = [p.relative_to(object_dir / "v2" / "content").as_posix()
                 for p in (object_dir / "v2" / "content").rglob("*") if p.is_file()]
    assert new_files and not [p for p in new_files if p.startswith("data/")]
    assert sorted(new_files) == sorted(["metadata/mets.xml", "metadata/supplied/d.csv",
                                        "bag-info.txt", "tagmanifest-sha256.txt",
                                        "tagmanifest-sha512.txt"])
    inventory = json.loads((object_dir / "inventory.json").read_text("utf-8"))
    v1, v2 = (inventory["versions"][v]["state"] for v in ("v1", "v2"))
    data = {d for d, paths in v1.items() if any(p.startswith("data/") for p in paths)}
    assert data <= set(v2)


def test_describe_with_dublin_core_and_mods(cli, repo, tmp_path):
    _package(cli, repo, tmp_path, "kz-1")
    dc = _write(tmp_path / "dc.xml", DC)
    assert cli("--repo", repo, "describe", "kz-1", "--metadata", dc).code == 0
    mods = _write(tmp_path / "mods.xml", MODS)
    result = cli("--repo", repo, "--json", "describe", "kz-1", "--metadata", mods)
    assert result.code == 0, result.err
    assert result.json()["version"] == 3 and result.json()["metadata"]["kind"] == "mods"
    mets = cli("--repo", repo, "show", "kz-1", "--mets").out
    assert "Рукописи Бухары" in mets  # the MODS of v3
    assert 'xml:lang="kk">Қолжазбалар жинағы<' in mets  # v2's Dublin Core carried
    assert mets.count("metadata modification") == 2
    shown = cli("--repo", repo, "--json", "show", "kz-1").json()
    assert shown["title"] == "Қолжазбалар жинағы"
    assert validate_root(repo / "ocfl").valid
    assert cli("--repo", repo, "check").code == 0


def test_an_unusable_file_is_refused_and_nothing_written(cli, repo, tmp_path):
    _package(cli, repo, tmp_path, "tk-1")
    before = sorted(p.as_posix() for p in (repo / "ocfl").rglob("*"))
    for name, text in (("empty.csv", "title\n"), ("bad.xml", "<mods xmlns='http://www.loc.gov/"
                       "mods/v3'><titleInfo><oops/></titleInfo></mods>"),
                       ("nothing.xml", "<root/>"), ("broken.xml", "<dc:title>")):
        result = cli("--repo", repo, "--json", "describe", "tk-1", "--metadata",
                     _write(tmp_path / name, text))
        assert result.code == 11, (name, result.out, result.err)
        assert "META-E010" in {f["code"] for f in result.json()["findings"]}, name
    assert sorted(p.as_posix() for p in (repo / "ocfl").rglob("*")) == before
    shown = cli("--repo", repo, "--json", "show", "tk-1").json()
    assert [v["number"] for v in shown["versions"]] == [1]


def test_ingest_metadata_on_a_plain_folder(cli, repo, tmp_path):
    folder = write_folder(tmp_path / "Golýazmalar", {"sahypa 1.txt": b"1\n", "сурет/2.txt": b"2"})
    csv = _write(tmp_path / "desc.csv", CSV)
    result = cli("--repo", repo, "--json", "ingest", folder, "--id", "tk-2", "--metadata", csv)
    assert result.code == 0, result.out + result.err
    shown = cli("--repo", repo, "--json", "show", "tk-2").json()
    assert shown["title"] == "Qoʻlyozmalar toʻplami"
    assert "metadata/supplied/desc.csv" in {f["path"] for f in shown["files"]}


def test_ingest_metadata_wins_over_the_deposits_own(cli, repo, tmp_path):
    folder = write_folder(tmp_path / "folder", {"a.txt": b"a"})
    (folder / "metadata").mkdir()
    _write(folder / "metadata" / "descriptive.csv", "title\nOwn title\n")
    dc = _write(tmp_path / "dc.xml", DC)
    result = cli("--repo", repo, "--json", "ingest", folder, "--id", "kz-2", "--metadata", dc)
    assert result.code == 1, result.out + result.err
    assert {"META-W006", "META-W007"} <= {f["code"] for f in result.json()["findings"]}
    mets = cli("--repo", repo, "show", "kz-2", "--mets").out
    assert "Қолжазбалар жинағы" in mets and "Own title" not in mets
    bad = cli("--repo", repo, "--json", "ingest", write_folder(tmp_path / "f2", {"b": b"b"}),
              "--metadata", _write(tmp_path / "bad.csv", "nope\n"))
    assert bad.code == 11 and "META-E010" in {f["code"] for f in bad.json()["findings"]}


def test_describe_replicates_the_new_version_to_every_location(cli, repo, tmp_path):
    from tests.cli.test_locations_cmd import _set_copies
    vault = tmp_path / "vault" / "ocfl"
    assert cli("--repo", repo, "locations", "add", "vault", "--kind", "local",
               "--path", vault).code == 0
    _set_copies(repo, 2)
    _package(cli, repo, tmp_path, "uz-3")
    csv = _write(tmp_path / "d.csv", CSV)
    result = cli("--repo", repo, "--json", "describe", "uz-3", "--metadata", csv)
    assert result.code == 0, result.out + result.err
    made = result.json()["replication"]["made"]
    assert [(m["location"], m["versions"]) for m in made] == [("vault", [2])]
    # only what v2 added travels: the METS, the metadata file, bag-info and tag manifests
    assert made[0]["files_copied"] == 5
    report = validate_root(vault)
    assert report.valid and not report.errors, report.messages
    bagit.Bag(str(_head_as_bag(_object_dir(vault.parent, "uz-3"), tmp_path / "v"))).validate()
    rows = {r["name"]: r for r in cli("--repo", repo, "--json", "locations").json()["locations"]}
    assert rows["local"]["copies"] == rows["vault"]["copies"]
