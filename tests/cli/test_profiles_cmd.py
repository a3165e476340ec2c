"""`validate --profile`, `ingest --profile` and profiles.dir: the same PROF- codes (issue 16 §4)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.deposit.test_profile import CONSORTIUM, PROFILES, consortium_bag, zipped

CONSORTIUM_FILE = PROFILES / "manuscripts-consortium.json"


def codes(result) -> list[str]:
    return sorted(f["code"] for f in result.json()["findings"])


def test_validate_and_ingest_report_the_same_profile_codes(cli, repo, tmp_path):
    bag = consortium_bag(tmp_path / "Бобурнома", algorithms=("sha256",))
    validated = cli("--repo", repo, "--json", "validate", bag, "--profile", CONSORTIUM_FILE)
    assert validated.code == 11
    assert codes(validated) == ["PROF-E005", "PROF-E007", "PROF-E017"]
    ingested = cli("--repo", repo, "--json", "ingest", bag, "--profile", CONSORTIUM_FILE)
    assert ingested.code == 11
    assert [c for c in codes(ingested) if c.startswith("PROF")] == codes(validated)


def test_a_conforming_zip_is_ingested_and_an_unusable_profile_rejects(cli, repo, tmp_path):
    archive = zipped(consortium_bag(tmp_path / "Qoʻlyozma"), tmp_path / "qoʻlyozma.zip")
    assert cli("--repo", repo, "validate", archive, "--profile", CONSORTIUM_FILE).code == 0
    broken = tmp_path / "buzuq.json"
    broken.write_text('{"BagIt-Profile-Info": {}}', encoding="utf-8")
    result = cli("--repo", repo, "--json", "validate", archive, "--profile", broken)
    assert result.code == 11 and codes(result) == ["PROF-E001"]
    stored = cli("--repo", repo, "--json", "ingest", archive, "--profile", CONSORTIUM_FILE)
    assert stored.code == 0, stored.out + stored.err


def test_profiles_dir_setting_finds_the_profile_the_bag_names(cli, repo, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("PRESERVE_PROFILES_DIR", str(PROFILES))
    bag = consortium_bag(tmp_path / "bag")  # a directory: the consortium requires a zip/tar
    result = cli("--repo", repo, "--json", "validate", bag)
    assert result.code == 11 and codes(result) == ["PROF-E017"]
    monkeypatch.setenv("PRESERVE_PROFILES_DIR", str(Path(tmp_path / "empty")))
    (tmp_path / "empty").mkdir()
    result = cli("--repo", repo, "--json", "validate", bag)
    assert result.code == 1 and codes(result) == ["PROF-W001"]
    assert CONSORTIUM in result.json()["findings"][0]["message"]


def test_profiles_by_organization_makes_a_depositors_profile_mandatory(cli, repo, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("PRESERVE_PROFILES_DIR", str(PROFILES))
    monkeypatch.setenv("PRESERVE_PROFILES_BY_ORGANIZATION",
                       f"Milliy kutubxona={CONSORTIUM}; Другая=x")
    from tests.builders import write_bag
    bag = write_bag(tmp_path / "bag", {"varaq.txt": b"x"})  # names no profile at all
    result = cli("--repo", repo, "--json", "ingest", bag)
    assert result.code == 11
    assert [c for c in codes(result) if c.startswith("PROF")] == [
        "PROF-E002", "PROF-E002", "PROF-E002", "PROF-E017"]
    monkeypatch.setenv("PRESERVE_PROFILES_BY_ORGANIZATION", "no pairs here")
    assert cli("--repo", repo, "validate", bag).code == 10
