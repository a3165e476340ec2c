"""Ingest decisions with their own codes: package ids, deposits changing while read."""

from __future__ import annotations

import os
import shutil

import pytest

from preserve.deposit import open_deposit
from preserve.ingest.reading import read_payload
from tests.builders import write_bag


def codes_of(result) -> list[str]:
    return [f["code"] for f in result.json()["findings"]]


def test_package_id_taken(cli, repo, tmp_path):
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "a", {"1": b"1"}), "--id", "p").code == 0
    result = cli("--repo", repo, "--json", "ingest", write_bag(tmp_path / "b", {"2": b"2"}), "--id", "p")
    assert result.code == 11 and codes_of(result) == ["ING-E003"]


def test_package_id_not_allowed(cli, repo, tmp_path):
    result = cli("--repo", repo, "--json", "ingest", write_bag(tmp_path / "a", {"1": b"1"}),
                 "--id", "bad\nid")
    assert result.code == 11 and codes_of(result) == ["ING-E004"]
    assert list((repo / "staging").iterdir()) == []


def test_version_of_unknown_package(cli, repo, tmp_path):
    result = cli("--repo", repo, "--json", "ingest", write_bag(tmp_path / "a", {"1": b"1"}),
                 "--as-version-of", "nope")
    assert result.code == 2
    assert "nope" in result.json()["error"]


def test_file_growing_while_read(tmp_path):
    bag = write_bag(tmp_path / "bag", {"page.txt": b"12345"})
    deposit = open_deposit(bag, tmp_path / "work")
    with open(bag / "data" / "page.txt", "ab") as handle:  # the depositor is still writing
        handle.write(b"678")
    found = {f.code for f in read_payload(deposit, workers=2).findings}
    assert "ING-E005" in found


def test_file_replaced_by_fifo_after_listing(tmp_path):
    bag = write_bag(tmp_path / "bag", {"page.txt": b"12345"})
    deposit = open_deposit(bag, tmp_path / "work")
    os.unlink(bag / "data" / "page.txt")
    os.mkfifo(bag / "data" / "page.txt")  # reading must neither hang nor crash
    found = {f.code for f in read_payload(deposit, workers=2).findings}
    assert "ING-E006" in found


def _versions(cli, repo, package_id: str) -> list[int]:
    shown = cli("--repo", repo, "--json", "show", package_id)
    assert shown.code == 0, shown.out
    return [v["number"] for v in shown.json()["versions"]]


def test_rerun_of_version_deposit_is_refused(cli, repo, tmp_path):
    """Issue 18: `ingest d2 --as-version-of X` twice used to store v3 equal to v2, exit 0."""
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "d1", {"1": b"1"}), "--id", "x").code == 0
    d2 = write_bag(tmp_path / "d2", {"1": b"1", "2": b"2"})
    assert cli("--repo", repo, "ingest", d2, "--as-version-of", "x").code == 0
    again = cli("--repo", repo, "--json", "ingest", d2, "--as-version-of", "x")
    assert again.code == 11 and codes_of(again) == ["ING-E009"]
    assert "--allow-unchanged" in again.json()["findings"][0]["message"]
    assert _versions(cli, repo, "x") == [1, 2]
    assert list((repo / "staging").iterdir()) == []
    # Asked for explicitly, the unchanged payload becomes v3.
    forced = cli("--repo", repo, "--json", "ingest", d2, "--as-version-of", "x", "--allow-unchanged")
    assert forced.code == 0 and forced.json()["version"] == 3
    assert _versions(cli, repo, "x") == [1, 2, 3]


def test_version_equal_to_an_older_version_is_allowed(cli, repo, tmp_path):
    """Only a repeat of the newest version is refused: going back to v1's payload is a change."""
    d1 = write_bag(tmp_path / "d1", {"1": b"1"})
    assert cli("--repo", repo, "ingest", d1, "--id", "x").code == 0
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "d2", {"2": b"2"}),
               "--as-version-of", "x").code == 0
    assert cli("--repo", repo, "ingest", d1, "--as-version-of", "x").code == 0
    assert _versions(cli, repo, "x") == [1, 2, 3]


def test_id_with_as_version_of_is_a_usage_error(cli, repo, tmp_path):
    """Issue 18: `--as-version-of X --id Y` silently ignored --id."""
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "d1", {"1": b"1"}), "--id", "x").code == 0
    result = cli("--repo", repo, "--json", "ingest", write_bag(tmp_path / "d2", {"2": b"2"}),
                 "--as-version-of", "x", "--id", "y")
    assert result.code == 2
    assert "--id" in result.json()["error"] and "--as-version-of" in result.json()["error"]
    assert _versions(cli, repo, "x") == [1]
    assert cli("--repo", repo, "--json", "show", "y").code != 0


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_zip_or_tar_of_a_plain_folder_is_ingested_like_the_folder(cli, repo, tmp_path, fmt):
    """Issue 11 section 6: a zipped plain folder was SER-E008; now it is bagged on ingest."""
    folder = tmp_path / "scans"
    (folder / "sub").mkdir(parents=True)
    (folder / "page 1.txt").write_bytes(b"one")
    (folder / "sub" / "page 2.txt").write_bytes(b"two")
    packed = shutil.make_archive(str(tmp_path / "scans"), fmt, root_dir=tmp_path, base_dir="scans")
    validated = cli("--repo", repo, "--json", "validate", packed)
    assert validated.code in (0, 1), validated.out
    from_archive = cli("--repo", repo, "--json", "ingest", packed, "--id", "a")
    assert from_archive.code in (0, 1), (from_archive.out, from_archive.err)
    files = {f["path"]: f["sha512"] for f in cli("--repo", repo, "--json", "show", "a").json()["files"]
             if f["path"].startswith("data/")}
    assert sorted(files) == ["data/page 1.txt", "data/sub/page 2.txt"]
    # The folder itself is the same payload: refused as a duplicate of the archive's package.
    same = cli("--repo", repo, "--json", "ingest", folder)
    assert same.code == 11 and codes_of(same) == ["ING-E002"]
    assert list((repo / "staging").iterdir()) == []


def _same_codes(cli, repo, deposit, *options) -> list[str]:
    """validate --repo and ingest, same options: the same finding codes and exit code."""
    checked = cli("--repo", repo, "--json", "validate", deposit, *options)
    ingested = cli("--repo", repo, "--json", "ingest", deposit, *options)
    assert checked.code == ingested.code, (checked.out, ingested.out)
    assert codes_of(checked) == codes_of(ingested)
    return codes_of(ingested)


def test_validate_against_a_repository_agrees_with_ingest(cli, repo, tmp_path):
    """Issue 11 section 6: validate said "valid" where ingest refused (ING-E001/E002/E003)."""
    info = [("External-Identifier", "UZ-1")]
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "a", {"1": b"1"}, bag_info=info),
               "--id", "x").code == 0
    same_id = write_bag(tmp_path / "b", {"2": b"2"}, bag_info=info)
    assert _same_codes(cli, repo, same_id) == ["ING-E001"]
    same_payload = write_bag(tmp_path / "c", {"1": b"1"})
    assert _same_codes(cli, repo, same_payload) == ["ING-E002"]
    taken = write_bag(tmp_path / "d", {"3": b"3"})
    assert _same_codes(cli, repo, taken, "--id", "x") == ["ING-E003"]
    assert _same_codes(cli, repo, same_payload, "--as-version-of", "x") == ["ING-E009"]
    fresh = write_bag(tmp_path / "e", {"4": b"4"})
    checked = cli("--repo", repo, "--json", "validate", fresh, "--id", "y")
    assert checked.code == 0 and codes_of(checked) == []
