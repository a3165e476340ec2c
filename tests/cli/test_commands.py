"""The command line end to end: exit codes, --json shapes, rejected ingests leave nothing."""

from __future__ import annotations

import json
import subprocess
import sys

from preserve.catalog import Catalog, sqlite_url
from preserve.storage.chainhead import HEAD_PATH
from tests.builders import MULTILINGUAL, tree_snapshot, write_bag, write_folder


def test_init_twice_is_a_configuration_error(cli, repo):
    result = cli("--repo", repo, "init")
    assert result.code == 10
    assert "already holds a preserve repository" in result.err


def test_commands_without_a_repository_exit_10(cli, tmp_path):
    result = cli("--repo", tmp_path / "nowhere", "--json", "list")
    assert result.code == 10
    assert result.json()["exit_code"] == 10


def test_usage_error_exits_2(cli, repo):
    assert cli("--repo", repo, "ingest").code == 2
    assert cli("--repo", repo, "no-such-command").code == 2


def test_validate_valid_bag(cli, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    result = cli("--json", "validate", bag)
    assert result.code == 0, result.out
    assert result.json() == {"valid": True, "findings": []}


def test_validate_rejects_a_wrong_digest(cli, tmp_path):
    bag = write_bag(tmp_path / "bag", {"a.txt": b"original"})
    (bag / "data" / "a.txt").write_bytes(b"changed!")  # same size, other bytes
    result = cli("--json", "validate", bag)
    assert result.code == 11
    document = result.json()
    assert document["valid"] is False
    assert {f["severity"] for f in document["findings"]} == {"error"}
    assert all(set(f) == {"code", "severity", "path", "message"} for f in document["findings"])
    assert any(f["path"] == "data/a.txt" for f in document["findings"])


def test_ingest_list_show_log(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", MULTILINGUAL,
                    bag_info=[("External-Identifier", "UZ-MS-1"), ("Title", "Qoʻlyozmalar")])
    result = cli("--repo", repo, "--json", "ingest", bag, "--id", "pkg-1")
    assert result.code == 0, result.err
    document = result.json()
    assert {k: document[k] for k in ("package_id", "version", "files", "bytes")} == {
        "package_id": "pkg-1", "version": 1, "files": len(MULTILINGUAL),
        "bytes": sum(len(c) for c in MULTILINGUAL.values())}

    listed = cli("--repo", repo, "--json", "list").json()["packages"]
    assert [p["package_id"] for p in listed] == ["pkg-1"]
    assert listed[0]["external_identifiers"] == ["UZ-MS-1"]
    assert listed[0]["title"] == "Qoʻlyozmalar"

    shown = cli("--repo", repo, "--json", "show", "pkg-1").json()
    payload = {f["path"]: f for f in shown["files"] if f["path"].startswith("data/")}
    assert set(payload) == {"data/" + p for p in MULTILINGUAL}  # names byte-exact
    assert {e["type"] for e in shown["events"]} >= {"validation", "message digest calculation",
                                                     "ingestion"}

    events = cli("--repo", repo, "--json", "log", "pkg-1").json()["events"]
    assert [e["type"] for e in events] == ["validation", "message digest calculation",
                                          "format identification", "ingestion"]
    assert cli("--repo", repo, "show", "pkg-1").code == 0  # text view renders too
    assert cli("--repo", repo, "list").code == 0
    assert cli("--repo", repo, "--json", "show", "no-such").code == 2


def test_rejected_ingest_leaves_nothing_and_logs_one_attempt(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", {"a.txt": b"original"})
    (bag / "data" / "a.txt").write_bytes(b"changed!")
    before = tree_snapshot(repo / "ocfl")
    result = cli("--repo", repo, "--json", "ingest", bag)
    assert result.code == 11
    assert result.json()["rejected"] is True
    # Nothing stored; only the event log's head moved on (the rejection is an event).
    after = tree_snapshot(repo / "ocfl")
    head = json.loads(after.pop(HEAD_PATH))
    assert after == before and head["events"] == 1
    assert list((repo / "staging").iterdir()) == []
    with Catalog(sqlite_url(repo / "catalog.sqlite")) as catalog:
        attempts = catalog.deposits()
        assert catalog.list_packages() == []
    assert len(attempts) == 1
    assert attempts[0].status == "rejected"
    assert attempts[0].findings and all(f.severity.value == "error" for f in attempts[0].findings)


def test_duplicate_identifier_then_new_version(cli, repo, tmp_path):
    info = [("External-Identifier", "UZ-MS-7")]
    first = write_bag(tmp_path / "v1", {"a.txt": b"same", "b.txt": b"old"}, bag_info=info)
    assert cli("--repo", repo, "ingest", first, "--id", "p7").code == 0

    second = write_bag(tmp_path / "v2", {"a.txt": b"same", "b.txt": b"new"}, bag_info=info)
    refused = cli("--repo", repo, "--json", "ingest", second)
    assert refused.code == 11
    assert [f["code"] for f in refused.json()["findings"]] == ["ING-E001"]

    added = cli("--repo", repo, "--json", "ingest", second, "--as-version-of", "p7")
    assert added.code == 0, added.err
    assert added.json()["version"] == 2
    from preserve.storage import StorageRoot
    object_dir = StorageRoot.open(repo / "ocfl").object_path("p7")
    stored_v2 = {p.relative_to(object_dir / "v2" / "content").as_posix()
                 for p in (object_dir / "v2" / "content").rglob("*") if p.is_file()}
    assert "data/b.txt" in stored_v2
    assert "data/a.txt" not in stored_v2  # unchanged content is not stored twice


def test_exact_payload_duplicate_is_refused(cli, repo, tmp_path):
    files = {"x/1.txt": b"one", "x/2.txt": b"two"}
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "a", files), "--id", "first").code == 0
    result = cli("--repo", repo, "--json", "ingest", write_folder(tmp_path / "b", files))
    assert result.code == 11
    assert [(f["code"], "first" in f["message"]) for f in result.json()["findings"]] == [
        ("ING-E002", True)]


def test_plain_folder_is_bagged_on_ingest(cli, repo, tmp_path):
    folder = write_folder(tmp_path / "scans", MULTILINGUAL)
    result = cli("--repo", repo, "--json", "ingest", folder)
    assert result.code == 0, result.err
    assert result.json()["files"] == len(MULTILINGUAL)
    assert result.json()["package_id"].startswith("urn:uuid:")


def test_db_current_and_upgrade(cli, repo):
    current = cli("--repo", repo, "--json", "db", "current").json()
    assert current["up_to_date"] is True
    assert cli("--repo", repo, "--json", "db", "upgrade").json()["to"] == current["head"]


def test_console_script_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "preserve", "--repo", str(tmp_path / "r"), "init"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r" / "preserve.toml").is_file()


def test_bidi_names_are_escaped_in_output_but_exact_in_data(cli, repo, tmp_path):
    name = "evil\u202etxt.exe"
    bag = write_bag(tmp_path / "bag", {name: b"x"})
    result = cli("--repo", repo, "--json", "ingest", bag, "--id", "bidi")
    assert result.code == 1  # accepted with a warning
    assert "\u202e" not in result.out and "\\u202e" in result.out
    assert [f["path"] for f in result.json()["findings"]] == ["data/" + name]  # decodes exact
    assert "\u202e" not in result.err
    text = cli("--repo", repo, "show", "bidi")
    assert "\u202e" not in text.out and "evil\\u202etxt.exe" in text.out
    shown = cli("--repo", repo, "--json", "show", "bidi").json()
    assert "data/" + name in {f["path"] for f in shown["files"]}


def test_broken_storage_root_exits_13_and_logs_a_failed_attempt(cli, repo, tmp_path):
    (repo / "ocfl" / "0=ocfl_1.1").unlink()
    result = cli("--repo", repo, "--json", "ingest", write_bag(tmp_path / "bag", {"a": b"a"}))
    assert result.code == 13
    assert "error" in result.json()
    with Catalog(sqlite_url(repo / "catalog.sqlite")) as catalog:
        assert [d.status for d in catalog.deposits()] == ["failed"]
        assert catalog.list_packages() == []
    assert list((repo / "staging").iterdir()) == []
