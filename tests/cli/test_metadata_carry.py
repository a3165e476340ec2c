"""A new version that brings no description keeps the package's (issue 16 §3)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.builders import MULTILINGUAL, write_bag

CSV = ("title,title[uz-Cyrl],title[fa-Arab],type\n"
       "Qoʻlyozmalar toʻplami,Қўлёзмалар тўплами,مجموعه نسخه‌های خطی,Text\n")
TITLES = ('>Qoʻlyozmalar toʻplami<', 'xml:lang="uz-Cyrl">Қўлёзмалар тўплами<',
          'xml:lang="fa-Arab">مجموعه نسخه‌های خطی<')


def _bag(root: Path, files: dict[str, bytes], described: bool) -> Path:
    bag = write_bag(root, files, tag_manifests=False)
    if described:
        (bag / "metadata").mkdir()
        (bag / "metadata" / "descriptive.csv").write_text(CSV, encoding="utf-8")
    return bag


def test_v2_without_descriptive_metadata_keeps_v1s_titles(cli, repo, tmp_path):
    first = _bag(tmp_path / "v1", MULTILINGUAL, described=True)
    assert cli("--repo", repo, "-q", "ingest", first, "--id", "pkg-7").code == 0
    second = _bag(tmp_path / "v2", {**MULTILINGUAL, "new page.txt": b"page 2\n"},
                  described=False)
    result = cli("--repo", repo, "ingest", second, "--as-version-of", "pkg-7")
    assert result.code in (0, 1), result.err
    mets = cli("--repo", repo, "show", "pkg-7", "--mets").out
    for title in TITLES:
        assert title in mets
    assert 'dc:type>Text<' in mets or ">Text<" in mets
    listing = cli("--repo", repo, "--json", "list").json()
    package = listing["packages"][0] if isinstance(listing, dict) else listing[0]
    assert package["title"] == "Qoʻlyozmalar toʻplami"
    out = tmp_path / "out"
    out.mkdir()
    exported = cli("--repo", repo, "--json", "export", "pkg-7", out, "--format", "zip")
    assert exported.code in (0, 1), exported.err
    with zipfile.ZipFile(exported.json()["path"]) as archive:
        text = next(archive.read(n) for n in archive.namelist()
                    if n.endswith("metadata/mets.xml")).decode()
    for title in TITLES:
        assert title in text


def test_a_new_description_replaces_the_old(cli, repo, tmp_path):
    first = _bag(tmp_path / "v1", MULTILINGUAL, described=True)
    assert cli("--repo", repo, "-q", "ingest", first, "--id", "pkg-8").code == 0
    second = _bag(tmp_path / "v2", {**MULTILINGUAL, "x.txt": b"x\n"}, described=False)
    (second / "metadata").mkdir()
    (second / "metadata" / "descriptive.csv").write_text("title[ru]\nРукописи\n",
                                                         encoding="utf-8")
    assert cli("--repo", repo, "ingest", second, "--as-version-of", "pkg-8").code in (0, 1)
    mets = cli("--repo", repo, "show", "pkg-8", "--mets").out
    assert 'xml:lang="ru">Рукописи<' in mets
    assert "Қўлёзмалар тўплами" not in mets


def test_a_plain_folder_may_carry_its_descriptive_csv(cli, repo, tmp_path):
    folder = tmp_path / "Қолжазбалар"
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "бет-1.txt").write_bytes("бет\n".encode())
    (folder / "metadata").mkdir()
    (folder / "metadata" / "descriptive.csv").write_text(CSV, encoding="utf-8")
    checked = cli("--repo", repo, "--json", "validate", folder)
    assert "META-W006" in {f["code"] for f in checked.json()["findings"]}, checked.out
    result = cli("--repo", repo, "--json", "ingest", folder, "--id", "kz-folder")
    assert result.code == 1, result.err  # stored, with META-W006 saying what was done
    assert "META-W006" in {f["code"] for f in result.json()["findings"]}
    shown = cli("--repo", repo, "--json", "show", "kz-folder").json()
    paths = {f["path"] for f in shown["files"]}
    assert "data/pages/бет-1.txt" in paths
    assert "data/metadata/descriptive.csv" not in paths
    assert "metadata/submission/metadata/descriptive.csv" in paths
    assert shown["title"] == "Qoʻlyozmalar toʻplami"
