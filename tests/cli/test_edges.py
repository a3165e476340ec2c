"""Edges of the command line that ended in internal errors or wrong outcomes (issue 18):
each is a clear usage error (exit 2) or a finding, and nothing is written."""

from __future__ import annotations

import pytest

from preserve.catalog import Catalog, sqlite_url
from tests.builders import MULTILINGUAL, write_bag

BAD_UTF8 = "bad\udcff"  # how Python hands over the argv bytes b"bad\xff"


def _deposits(repo) -> int:
    with Catalog(sqlite_url(repo / "catalog.sqlite")) as catalog:
        return len(catalog.deposits())


def test_non_utf8_ids_are_usage_errors_and_write_nothing(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    result = cli("--repo", repo, "ingest", bag, "--id", BAD_UTF8)
    assert result.code == 2 and "not valid UTF-8" in result.err
    assert _deposits(repo) == 0
    for args in (("show", BAD_UTF8), ("export", BAD_UTF8, tmp_path / "x"),
                 ("audit", "--package", BAD_UTF8)):
        assert cli("--repo", repo, *args).code == 2, args


def test_a_version_deposit_repeating_the_newest_payload_is_refused(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    assert cli("--repo", repo, "ingest", bag, "--id", "p1").code == 0
    again = cli("--repo", repo, "--json", "ingest", bag, "--as-version-of", "p1")
    assert again.code == 11
    assert [f["code"] for f in again.json()["findings"]] == ["ING-E009"]
    forced = cli("--repo", repo, "--json", "ingest", bag, "--as-version-of", "p1",
                 "--allow-unchanged")
    assert forced.code == 0 and forced.json()["version"] == 2


def test_as_version_of_with_another_id_is_refused(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    assert cli("--repo", repo, "ingest", bag, "--id", "p1").code == 0
    changed = write_bag(tmp_path / "bag2", {**MULTILINGUAL, "new.txt": b"new"})
    result = cli("--repo", repo, "ingest", changed, "--as-version-of", "p1", "--id", "p2")
    assert result.code == 2 and "name different packages" in result.err
    assert cli("--repo", repo, "ingest", changed, "--as-version-of", "p1").code == 0


@pytest.mark.parametrize("rate", ["nan", "inf", "-1", "0"])
def test_max_rate_must_be_a_positive_finite_number(cli, repo, rate):
    result = cli("--repo", repo, "audit", "--max-rate", rate)
    assert result.code == 2, result.err


def test_report_paths_are_checked_before_the_audit_runs(cli, repo, tmp_path):
    directory = cli("--repo", repo, "audit", "--report", tmp_path)
    assert directory.code == 2 and "is a directory" in directory.err
    missing = cli("--repo", repo, "audit", "--report", tmp_path / "no" / "such" / "r.html")
    assert missing.code == 2 and "does not exist" in missing.err
    assert cli("--repo", repo, "audit", "--report", tmp_path / "r.html").code == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!")


def test_unknown_packages_are_usage_errors_and_identifiers_find_packages(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL,
                    bag_info=[("Source-Organization", "Milliy kutubxona"),
                              ("External-Identifier", "UZ-NL-42")])
    assert cli("--repo", repo, "ingest", bag, "--id", "p1").code == 0
    for args in (("show", "nope"), ("export", "nope", tmp_path / "out"), ("log", "nope")):
        result = cli("--repo", repo, *args)
        assert result.code == 2 and "No package 'nope'" in result.err, args
    shown = cli("--repo", repo, "--json", "show", "UZ-NL-42")
    assert shown.code == 0 and shown.json()["package_id"] == "p1"
    assert cli("--repo", repo, "log", "UZ-NL-42").code == 0
    for spelling in ("v1", "1", "V1"):
        mets = cli("--repo", repo, "show", "p1", "--mets", "--version", spelling)
        assert mets.code == 0 and mets.out.startswith("<?xml"), spelling
    assert cli("--repo", repo, "show", "p1", "--mets", "--version", "x1").code == 2


def test_quiet_prints_nothing_on_success_and_errors_on_stderr(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    quiet = cli("--repo", repo, "-q", "ingest", bag, "--id", "p1")
    assert (quiet.code, quiet.out) == (0, "")
    audit = cli("--repo", repo, "-q", "audit", "--all")
    assert (audit.code, audit.out, audit.err) == (0, "", "")
    stored = next((repo / "ocfl").rglob("content/data/*.txt"))
    stored.write_bytes(b"changed" + stored.read_bytes())
    damaged = cli("--repo", repo, "-q", "audit", "--all")
    assert damaged.code == 12 and damaged.out == "" and "AUD-E001" in damaged.err


def test_a_mistyped_deposit_path_is_a_usage_error_and_records_nothing(cli, repo, tmp_path):
    for command in ("validate", "ingest"):
        result = cli("--repo", repo, command, tmp_path / "no-such-deposit")
        assert result.code == 2 and "does not exist" in result.err, command
    assert _deposits(repo) == 0


def test_deposits_lists_every_attempt_with_its_codes(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    assert cli("--repo", repo, "ingest", bag, "--id", "p1").code == 0
    assert cli("--repo", repo, "ingest", bag, "--id", "p2").code == 11  # same payload
    listed = cli("--repo", repo, "--json", "deposits")
    assert listed.code == 0
    rows = listed.json()["deposits"]
    assert [(r["status"], r["package_id"]) for r in rows] == [("accepted", "p1"),
                                                              ("rejected", None)]
    assert "ING-E002" in rows[1]["codes"] and rows[1]["source"] == str(bag)
    rejected = cli("--repo", repo, "deposits", "--status", "rejected")
    assert rejected.code == 0 and "ING-E002" in rejected.out and "p1" not in rejected.out


def test_log_filters(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    assert cli("--repo", repo, "ingest", bag, "--id", "p1").code == 0
    everything = cli("--repo", repo, "--json", "log", "p1").json()["events"]
    ingestions = cli("--repo", repo, "--json", "log", "p1", "--type", "ingestion").json()["events"]
    assert [e["type"] for e in ingestions] == ["ingestion"] and len(everything) > 1
    assert cli("--repo", repo, "--json", "log", "--outcome", "failure").json()["events"] == []
    assert cli("--repo", repo, "--json", "log", "--until", "2000-01-01").json()["events"] == []
    today = everything[0]["time"][:10]
    assert len(cli("--repo", repo, "--json", "log", "p1", "--since", today,
                   "--until", today).json()["events"]) == len(everything)
    assert cli("--repo", repo, "log", "--since", "yesterday").code == 2


def test_global_options_after_the_command(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    assert cli("ingest", bag, "--id", "p1", "--repo", repo, "-q").out == ""
    listed = cli("list", "--json", "--repo", repo)
    assert listed.code == 0 and listed.json()["packages"][0]["package_id"] == "p1"
    assert cli("list", f"--repo={repo}", "--json").json()["packages"][0]["package_id"] == "p1"
    quiet = cli("audit", "--all", "--repo", repo, "-q")
    assert (quiet.code, quiet.out) == (0, "")
    # after `--` nothing is an option: a package called "--json" is looked up as such
    assert cli("--repo", repo, "log", "--", "--json").code == 2


def test_hoisting_keeps_command_options_and_values():
    from preserve.cli import hoist_global_options
    assert hoist_global_options(["show", "p", "--mets", "--version", "v2", "--json"]) == [
        "--json", "show", "p", "--mets", "--version", "v2"]
    assert hoist_global_options(["--repo", "R", "log", "--", "-q"]) == [
        "--repo", "R", "log", "--", "-q"]


def test_show_gives_the_record_formats_sizes_and_times(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", {"kitob.txt": b"Navoiy " * 300},
                    bag_info=[("Source-Organization", "Milliy kutubxona"),
                              ("Title", "Хамса"), ("External-Identifier", "UZ-1")])
    assert cli("--repo", repo, "ingest", bag, "--id", "p1").code == 0
    shown = cli("--repo", repo, "show", "p1")
    assert shown.code == 0
    text = shown.out
    assert "description (Dublin Core" in text and "Хамса" in text
    assert "kitob.txt  2.1 KiB  x-fmt/111 Plain Text File" in text
    assert "payload of v1 (1 files)" in text and "tag and metadata files of v1" in text
    assert " UTC  ingestion  success" in text
    document = cli("--repo", repo, "--json", "show", "p1").json()
    assert {"element": "title", "value": "Хамса", "lang": ""} in document["description"]


def test_a_catalog_error_after_the_storage_commit_is_said_once(cli, repo, tmp_path, monkeypatch):
    """issue 18: "Catalog error: Catalog error:" was printed doubled."""
    from preserve.catalog import Catalog
    from preserve.errors import CatalogError

    def refuse(self, record, events):
        raise CatalogError(detail="the catalog is locked by another process")

    monkeypatch.setattr(Catalog, "record_ingest", refuse)
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    result = cli("--repo", repo, "ingest", bag, "--id", "p1")
    assert result.code == 14
    assert result.err.count("Catalog error") == 1 and "stored but not recorded" in result.err


def test_a_name_with_a_backslash_is_refused_because_no_bag_could_carry_it(cli, repo, tmp_path):
    """issue 18: a folder file named `a\\b.txt` was accepted, then its own export failed."""
    from tests.builders import write_folder
    folder = write_folder(tmp_path / "folder", {"a\\b.txt": b"x", "ok.txt": b"y"})
    result = cli("--repo", repo, "--json", "ingest", folder, "--id", "p1")
    assert result.code == 11
    assert "NAME-E005" in [f["code"] for f in result.json()["findings"]]
