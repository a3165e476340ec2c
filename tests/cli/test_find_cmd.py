"""`preserve find TEXT` (issue 16 §6): titles in any language and script, identifiers."""

from __future__ import annotations

import unicodedata

from tests.builders import MULTILINGUAL, write_bag

CSV = ("title,title[uz-Cyrl],title[fa-Arab]\n"
       "Qoʻlyozmalar toʻplami,Қўлёзмалар тўплами,مجموعه نسخه‌های خطی\n")


def _ingest(cli, repo, tmp_path) -> None:
    bag = write_bag(tmp_path / "a", MULTILINGUAL, tag_manifests=False,
                    bag_info=(("External-Identifier", "UZ-NL-MS-0042"),))
    (bag / "metadata").mkdir()
    (bag / "metadata" / "descriptive.csv").write_text(CSV, encoding="utf-8")
    assert cli("--repo", repo, "-q", "ingest", bag, "--id", "pkg-a").code == 0
    other = write_bag(tmp_path / "b", {"x.txt": b"x\n"}, bag_info=(("Title", "Летопись"),))
    assert cli("--repo", repo, "-q", "ingest", other, "--id", "pkg-b").code == 0


def _found(cli, repo, text: str) -> list[tuple[str, str]]:
    result = cli("--repo", repo, "--json", "find", text)
    assert result.code == 0, result.err
    return [(p["package_id"], p["matched"]) for p in result.json()["packages"]]


def test_titles_in_every_script_case_and_normalization_insensitive(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    assert _found(cli, repo, "ҚЎЛЁЗМАЛАР") == [("pkg-a", "title")]  # a title only the METS has
    assert _found(cli, repo, "نسخه‌های") == [("pkg-a", "title")]
    assert _found(cli, repo, "qo'lyozmalar") == [("pkg-a", "title")]  # typed apostrophe
    assert _found(cli, repo, unicodedata.normalize("NFD", "Қўлёзмалар")) == [("pkg-a", "title")]
    assert _found(cli, repo, "летопись") == [("pkg-b", "title")]
    assert _found(cli, repo, "uz-nl-ms-0042") == [("pkg-a", "external identifier")]
    assert _found(cli, repo, "pkg-") == [("pkg-a", "id"), ("pkg-b", "id")]
    assert _found(cli, repo, "nothing like it") == []
    text = cli("--repo", repo, "find", "nothing like it")
    assert text.code == 0 and "no package matches" in text.out
