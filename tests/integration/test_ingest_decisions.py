"""Ingest decisions with their own codes: package ids, deposits changing while read."""

from __future__ import annotations

import os

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
