"""Deaccession with approval (issue 16 §2) through the real CLI: a local disk, a second local
location and a real S3 server (OpenStack Swift, the `swift_server` fixture), two people told
apart by USER/LOGNAME as getpass.getuser() reads them."""

from __future__ import annotations

import pytest

from preserve.catalog import Catalog, sqlite_url
from preserve.storage import layout
from tests.builders import MULTILINGUAL, write_bag
from tests.cli.test_locations_cmd import _s3_client, s3_repo  # noqa: F401  (shared fixture)
from tests.unit.storage.ocfl_oracle import validate_root

PACKAGE = "Қолжазба-ҳужжат-1"
IDENTIFIER = "urn:milliy:qoʻlyozma:7"


def _as(monkeypatch, person: str) -> None:
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, person)


def _ingest(cli, repo, tmp_path, name: str = "deposit") -> object:
    bag = write_bag(tmp_path / name, MULTILINGUAL,
                    bag_info=[("External-Identifier", IDENTIFIER), ("Title", "Шежіре")])
    return cli("--repo", repo, "--json", "ingest", bag, "--id", PACKAGE)


def _request(cli, repo, monkeypatch, person: str = "dilnoza") -> int:
    _as(monkeypatch, person)
    made = cli("--repo", repo, "--json", "deaccession", "request", PACKAGE,
               "--reason", "хуқуқ эгаси талаби / rights holder withdrew consent")
    assert made.code == 0, made.err
    assert made.json()["state"] == "requested"
    return int(made.json()["id"])


def _s3_keys(swift_server, bucket: str) -> list[str]:
    listed = _s3_client(swift_server).list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_approved_by_another_person_removes_every_copy_and_keeps_the_tombstone(
        cli, repo, tmp_path, s3_repo, swift_server, monkeypatch):  # noqa: F811
    ingested = _ingest(cli, repo, tmp_path)
    assert ingested.code == 0, ingested.err
    base = layout.object_path_for(PACKAGE)
    assert (repo / "ocfl" / base).is_dir() and (s3_repo["vault"] / base).is_dir()
    assert any(k.startswith(f"ocfl/{base}/") for k in _s3_keys(swift_server, s3_repo["bucket"]))
    request_id = _request(cli, repo, monkeypatch)

    same = cli("--repo", repo, "deaccession", "approve", str(request_id), "--yes")
    assert same.code == 2 and "DEA-E004" in same.err
    asked = cli("--repo", repo, "deaccession", "approve", str(request_id))  # no terminal
    assert asked.code == 2 and "--yes" in asked.err
    assert (repo / "ocfl" / base).is_dir()

    _as(monkeypatch, "aigerim")
    approved = cli("--repo", repo, "--json", "deaccession", "approve", str(request_id),
                   "--note", "комиссия шешімі", "--yes")
    assert approved.code == 0, approved.err
    assert approved.json()["state"] == "completed"
    assert approved.json()["decided_by"] == "aigerim"
    # Every copy is gone, and the layout leaves no empty directory behind (OCFL 1.1 4.2).
    assert not (repo / "ocfl" / base).exists() and not (s3_repo["vault"] / base).exists()
    assert not [k for k in _s3_keys(swift_server, s3_repo["bucket"]) if base in k]
    assert not (repo / "ocfl" / base.split("/")[0]).exists()
    report = validate_root(repo / "ocfl")
    assert report.valid and report.errors == set(), report.messages
    # The tombstone: rows, events, the final METS.
    shown = cli("--repo", repo, "--json", "show", PACKAGE)
    assert shown.code == 0, shown.err
    assert shown.json()["state"] == "deaccessioned"
    assert "deaccession" in {e["type"] for e in shown.json()["events"]}
    assert "ingestion" in {e["type"] for e in shown.json()["events"]}
    assert "DEACCESSIONED" in cli("--repo", repo, "show", PACKAGE).out
    listed = cli("--repo", repo, "--json", "list")
    assert [p["state"] for p in listed.json()["packages"]] == ["deaccessioned"]
    with Catalog(sqlite_url(repo / "catalog.sqlite")) as catalog:
        mets = catalog.final_mets(request_id)
    assert mets is not None and PACKAGE.encode() in mets and b"<mets" in mets.lower()
    assert cli("--repo", repo, "show", PACKAGE, "--mets").out.encode() == mets
    assert cli("--repo", repo, "log", "verify").code == 0
    # No false alarm afterwards: audit, check and replication leave it alone.
    audited = cli("--repo", repo, "audit", "--all")
    assert audited.code == 0, audited.out + audited.err
    checked = cli("--repo", repo, "--json", "check")
    assert checked.code == 0, checked.out
    replicated = cli("--repo", repo, "--json", "replicate")
    assert replicated.code == 0 and replicated.json()["made"] == []
    # Nothing to hand out.
    refused = cli("--repo", repo, "export", PACKAGE, tmp_path / "out")
    assert refused.code != 0 and "DEA-E009" in refused.err
    metadata = tmp_path / "dc.xml"
    metadata.write_text('<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
                        '<dc:title>Шежіре</dc:title></metadata>', encoding="utf-8")
    described = cli("--repo", repo, "describe", PACKAGE, "--metadata", metadata)
    assert described.code == 2 and "ING-E011" in described.err
    again = cli("--repo", repo, "deaccession", "request", PACKAGE, "--reason", "twice")
    assert again.code == 2 and "DEA-E002" in again.err


def test_reject_leaves_everything(cli, repo, tmp_path, monkeypatch):
    assert _ingest(cli, repo, tmp_path).code == 0
    base = repo / "ocfl" / layout.object_path_for(PACKAGE)
    before = sorted(p.relative_to(base) for p in base.rglob("*"))
    request_id = _request(cli, repo, monkeypatch)
    pending = cli("--repo", repo, "deaccession", "request", PACKAGE, "--reason", "again")
    assert pending.code == 2 and "DEA-E003" in pending.err
    _as(monkeypatch, "aigerim")
    no_note = cli("--repo", repo, "deaccession", "reject", str(request_id))
    assert no_note.code == 2
    rejected = cli("--repo", repo, "--json", "deaccession", "reject", str(request_id),
                   "--note", "сақтау мерзімі бітпеген")
    assert rejected.code == 0, rejected.err
    assert rejected.json()["state"] == "rejected"
    late = cli("--repo", repo, "deaccession", "approve", str(request_id), "--yes")
    assert late.code == 2 and "DEA-E008" in late.err
    assert sorted(p.relative_to(base) for p in base.rglob("*")) == before
    assert cli("--repo", repo, "--json", "show", PACKAGE).json()["state"] == "active"
    listed = cli("--repo", repo, "--json", "deaccession", "list").json()["requests"]
    assert [(r["id"], r["state"], r["requested_by"], r["decided_by"]) for r in listed] == [
        (request_id, "rejected", "dilnoza", "aigerim")]
    assert cli("--repo", repo, "audit", "--all").code == 0


def test_requests_that_cannot_be(cli, repo, tmp_path, monkeypatch):
    _as(monkeypatch, "dilnoza")
    unknown = cli("--repo", repo, "deaccession", "request", "йўқ", "--reason", "x")
    assert unknown.code == 2 and "DEA-E001" in unknown.err
    assert _ingest(cli, repo, tmp_path).code == 0
    version = cli("--repo", repo, "deaccession", "request", PACKAGE, "--version", "1",
                  "--reason", "one version only")
    assert version.code == 2 and "DEA-E005" in version.err and "immutable" in version.err
    missing = cli("--repo", repo, "deaccession", "approve", "99", "--yes")
    assert missing.code == 2 and "DEA-E007" in missing.err


@pytest.mark.parametrize("flag", [None, "--allow-deaccessioned-id"])
def test_the_same_identifier_again(cli, repo, tmp_path, monkeypatch, flag):
    assert _ingest(cli, repo, tmp_path).code == 0
    request_id = _request(cli, repo, monkeypatch)
    _as(monkeypatch, "aigerim")
    assert cli("--repo", repo, "deaccession", "approve", str(request_id), "--yes").code == 0
    bag = write_bag(tmp_path / "again", {"yangi/ҳужжат.txt": b"new content\n"},
                    bag_info=[("External-Identifier", IDENTIFIER)])
    args = ["--repo", repo, "--json", "ingest", bag] + ([flag] if flag else [])
    result = cli(*args)
    if flag is None:
        assert result.code != 0
        assert "ING-E010" in result.out + result.err
        checked = cli("--repo", repo, "--json", "validate", bag)
        assert "ING-E010" in checked.out + checked.err
    else:
        assert result.code == 0, result.out + result.err
