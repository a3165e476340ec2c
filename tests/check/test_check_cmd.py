"""`preserve check [--repair]` end to end: each inconsistency made for real, the report, exit
codes, the repairs, their events, and the storage root still valid for ocfl-py."""

from __future__ import annotations

import json
import shutil

from preserve.catalog import Catalog
from tests.builders import tree_snapshot, write_bag
from tests.check.conftest import (
    age,
    copy_object,
    ingest,
    object_dir,
    sqlite_url,
    staging_leftover,
    stuck_deposit,
)
from tests.unit.storage.ocfl_oracle import validate_root


def _codes(document: dict) -> list[str]:
    return sorted(f["code"] for f in document["findings"])


def _all_four(cli, repo, other_repo, tmp_path) -> None:
    """Every kind of inconsistency at once, each made the way it happens."""
    ingest(cli, repo, tmp_path, "kept")
    ingest(cli, repo, tmp_path, "lost")
    shutil.rmtree(object_dir(repo, "lost"))  # an operator's rm: the layout's parents stay
    age(object_dir(repo, "lost").parents[2])
    ingest(cli, other_repo, tmp_path, "stray", info=(("Title", "Devon"),
                                                     ("External-Identifier", "ms-42")))
    age(copy_object(other_repo, repo, "stray"))  # copied in, never recorded
    age(staging_leftover(repo))  # an ingest killed mid-copy
    stuck_deposit(sqlite_url(repo))  # ... and its attempt, never finished


def test_consistent_repository_exits_0(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "kept")
    result = cli("--repo", repo, "--json", "check")
    assert result.code == 0, result.err
    d = result.json()
    assert d["consistent"] and d["found"] == [] and d["findings"] == [] and not d["repaired"]
    text = cli("--repo", repo, "check")
    assert text.code == 0 and "agree" in text.out


def test_report_only_lists_everything_and_changes_nothing(cli, repo, other_repo, tmp_path):
    _all_four(cli, repo, other_repo, tmp_path)
    before = {p: v for p, v in tree_snapshot(repo).items() if not p.startswith("catalog.sqlite")}
    events_before = len(cli("--repo", repo, "--json", "log").json()["events"])
    result = cli("--repo", repo, "--json", "check")
    assert result.code == 12, result.err
    d = result.json()
    assert _codes(d) == ["CHK-E001", "CHK-E002", "CHK-E003", "CHK-E004", "CHK-E008"]
    by_code = {f["code"]: f for f in d["found"]}
    assert by_code["CHK-E002"]["package_id"] == "stray"
    assert by_code["CHK-E002"]["repair"] == "validate, then adopt or quarantine"
    assert by_code["CHK-E003"]["package_id"] == "lost"
    assert by_code["CHK-E001"]["target"].startswith("staging/ingest-")
    assert by_code["CHK-E004"]["deposit_id"] is not None
    assert not d["repaired"] and d["actions"] == []
    after = {p: v for p, v in tree_snapshot(repo).items() if not p.startswith("catalog.sqlite")}
    assert after == before
    assert len(cli("--repo", repo, "--json", "log").json()["events"]) == events_before
    text = cli("--repo", repo, "check")
    assert text.code == 12 and "CHK-E002" in text.err and "5 inconsistencies found" in text.out


def test_repair_acts_on_each_and_logs_one_event_per_action(cli, repo, other_repo, tmp_path):
    _all_four(cli, repo, other_repo, tmp_path)
    events_before = len(cli("--repo", repo, "--json", "log").json()["events"])
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes", "--min-age", "1")
    # The missing object still needs the operator (restore from a copy): 12.
    assert result.code == 12, result.err
    d = result.json()
    assert d["repaired"]
    actions = {a["kind"]: a for a in d["actions"]}
    assert {k: a["action"] for k, a in actions.items()} == {
        "orphaned staging directory": "removed",
        "object without catalog rows": "adopted",
        "package without object": "marked missing",
        "deposit stuck in progress": "marked failed",
        "empty directory in the storage root": "removed",
    }
    assert all(a["ok"] and a["event"] for a in d["actions"])
    needs_operator = [k for k, a in actions.items() if a["needs_operator"]]
    assert needs_operator == ["package without object"]

    assert list((repo / "staging").iterdir()) == []
    shown = cli("--repo", repo, "--json", "show", "stray").json()
    assert shown["title"] == "Devon" and shown["external_identifiers"] == ["ms-42"]
    lost = cli("--repo", repo, "--json", "show", "lost").json()
    assert {c["status"] for f in lost["files"] for c in f["copies"]} == {"missing"}
    with Catalog(sqlite_url(repo)) as catalog:
        assert [d.status for d in catalog.deposits()].count("in_progress") == 0
        assert "failed" in [d.status for d in catalog.deposits()]
    events = cli("--repo", repo, "--json", "log").json()["events"]
    new = events[events_before:]
    by_action = [e for e in new if e["identifier"] in {a["event"] for a in d["actions"]}]
    assert sorted((e["type"], e["outcome"]) for e in by_action) == [
        ("deletion", "success"), ("deletion", "success"), ("fixity check", "failure"),
        ("ingestion", "failure"), ("ingestion", "success")]
    assert len(by_action) == len(d["actions"])
    adopted = next(e for e in by_action if e["package_id"] == "stray")
    assert "adopted by preserve check" in adopted["detail"]
    # The rest: the stray object's own history, restored from its METS, same identifiers.
    history = cli("--repo", other_repo, "--json", "log", "stray").json()["events"]
    restored = [e for e in new if e not in by_action]
    assert [(e["identifier"], e["type"], e["time"]) for e in restored] == [
        (e["identifier"], e["type"], e["time"]) for e in history]
    assert f"{len(history)} earlier event(s) restored" in adopted["detail"]
    assert cli("--repo", repo, "log", "verify").code == 0
    report = validate_root(repo / "ocfl")
    assert report.valid, report.messages

    # Only the missing object is left; a second repair changes nothing and logs nothing.
    again = cli("--repo", repo, "--json", "check", "--repair", "--yes", "--min-age", "1")
    assert again.code == 12
    assert _codes(again.json()) == ["CHK-E003"] and again.json()["actions"] == []
    assert len(cli("--repo", repo, "--json", "log").json()["events"]) == len(events)


def test_adopted_rows_equal_those_ingest_wrote(cli, repo, other_repo, tmp_path):
    """Catalog rows rebuilt from storage are the rows ingest recorded: files with digests,
    sizes, PRONOM formats and content paths, versions with counts and fingerprints."""
    ingest(cli, other_repo, tmp_path, "twice", info=(("External-Identifier", "ms-7"),))
    ingest(cli, other_repo, tmp_path, "twice", {"page 1.txt": b"first page\n",
                                                "page 2.txt": b"second page\n"},
           as_version_of=True)
    age(copy_object(other_repo, repo, "twice"))
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert result.code == 0, result.out + result.err
    original = cli("--repo", other_repo, "--json", "show", "twice").json()
    adopted = cli("--repo", repo, "--json", "show", "twice").json()
    for key in ("title", "external_identifiers", "payload_fingerprint", "created"):
        assert adopted[key] == original[key], key
    strip = ("deposit_id", "message")
    assert ([{k: v for k, v in ver.items() if k not in strip} for ver in adopted["versions"]]
            == [{k: v for k, v in ver.items() if k not in strip} for ver in original["versions"]])
    assert [v["deposit_id"] for v in adopted["versions"]] == [None, None]

    def files(doc):
        return [{k: v for k, v in f.items() if k != "copies"} for f in doc["files"]]

    assert files(adopted) == files(original)
    # The history each version's METS carries is the package's log again, then the adoption.
    keys = ("identifier", "type", "outcome", "time", "detail", "outcome_detail", "version",
            "object_paths")
    assert ([{k: e[k] for k in keys} for e in adopted["events"][:-1]]
            == [{k: e[k] for k in keys} for e in original["events"]])
    assert "adopted by preserve check" in adopted["events"][-1]["detail"]
    assert any(f["format"] for f in files(adopted))
    # Ingest finds the adopted package as a duplicate, like any other.
    dup = tmp_path / "dup"
    write_bag(dup, {"page 1.txt": b"first page\n", "page 2.txt": b"second page\n"})
    rejected = cli("--repo", repo, "--json", "ingest", dup)
    assert rejected.code == 11 and "ING-E002" in rejected.out
    assert cli("--repo", repo, "check").code == 0


def test_invalid_orphan_goes_to_quarantine(cli, repo, other_repo, tmp_path):
    ingest(cli, other_repo, tmp_path, "bad")
    copied = copy_object(other_repo, repo, "bad")
    damaged = copied / "v1" / "content" / "data" / "page 1.txt"
    damaged.write_bytes(b"first pagE\n")
    age(copied)
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert result.code == 12
    [action] = result.json()["actions"]
    assert action["action"] == "quarantined" and "sha512" in action["detail"]
    assert not copied.exists()
    assert not (repo / "ocfl" / copied.relative_to(repo / "ocfl").parts[0]).exists()
    [run] = (repo / "quarantine").iterdir()
    moved = run / copied.relative_to(repo / "ocfl")
    assert (moved / "v1" / "content" / "data" / "page 1.txt").read_bytes() == b"first pagE\n"
    note = json.loads(moved.with_name(moved.name + ".check.json").read_text("utf-8"))
    assert note["object_id"] == "bad" and "sha512" in note["reason"]
    assert cli("--repo", repo, "show", "bad").code == 2
    [event] = [e for e in cli("--repo", repo, "--json", "log").json()["events"]
               if e["type"] == "quarantine"]
    assert event["package_id"] == "bad" and event["identifier"] == action["event"]
    assert cli("--repo", repo, "log", "verify").code == 0
    assert validate_root(repo / "ocfl").valid
    assert cli("--repo", repo, "check").code == 0


def test_directory_that_is_no_object_of_ours_is_quarantined(cli, repo, tmp_path):
    """An object declaration without a readable inventory (CHK-E005)."""
    junk = repo / "ocfl" / "abc" / "def" / "012" / ("f" * 64)
    junk.mkdir(parents=True)
    (junk / "0=ocfl_object_1.1").write_text("ocfl_object_1.1\n")
    age(junk)
    report = cli("--repo", repo, "--json", "check")
    assert report.code == 12 and _codes(report.json()) == ["CHK-E005"]
    repaired = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert [a["action"] for a in repaired.json()["actions"]] == ["quarantined"]
    assert not (repo / "ocfl" / "abc").exists()
    assert cli("--repo", repo, "check").code == 0


def test_storage_ahead_of_a_restored_catalog(cli, repo, tmp_path):
    """The catalog restored from yesterday's backup: today's version is only in storage."""
    ingest(cli, repo, tmp_path, "grown")
    backup = tmp_path / "catalog-backup.sqlite"
    shutil.copyfile(repo / "catalog.sqlite", backup)
    ingest(cli, repo, tmp_path, "grown", {"page 1.txt": b"revised\n"}, as_version_of=True)
    shutil.copyfile(backup, repo / "catalog.sqlite")
    age(object_dir(repo, "grown"))
    report = cli("--repo", repo, "--json", "check")
    assert report.code == 12 and _codes(report.json()) == ["CHK-E006"]
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert result.code == 0, result.out
    assert [a["action"] for a in result.json()["actions"]] == ["adopted"]
    shown = cli("--repo", repo, "--json", "show", "grown").json()
    assert [v["number"] for v in shown["versions"]] == [1, 2]
    assert {f["path"] for f in shown["files"] if f["version"] == 2} >= {"data/page 1.txt"}
    # v2's own events come back from its METS (v1's were in the restored catalog already).
    v2 = [e for e in shown["events"] if e["version"] == 2]
    assert [e["type"] for e in v2][:2] == ["validation", "message digest calculation"]
    assert [e["type"] for e in v2][-2:] == ["ingestion", "ingestion"]  # stored, then adopted
    assert len({e["identifier"] for e in shown["events"]}) == len(shown["events"])
    assert cli("--repo", repo, "check").code == 0
    assert cli("--repo", repo, "log", "verify").code == 0


def test_young_leftovers_are_left_alone(cli, repo, other_repo, tmp_path):
    """What an ingest running right now has: fresh staging, a just-committed object, an
    attempt in progress. None of it is touched under the default safety age."""
    work = staging_leftover(repo)
    ingest(cli, other_repo, tmp_path, "fresh")
    copy_object(other_repo, repo, "fresh")
    import datetime as dt
    stuck_deposit(sqlite_url(repo), started=dt.datetime.now(dt.UTC))
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert result.code == 0, result.out
    d = result.json()
    assert d["consistent"] and d["actions"] == []
    assert _codes(d) == ["CHK-W001"] * 3
    assert work.is_dir() and object_dir(repo, "fresh").is_dir()


def test_staging_directory_whose_lock_is_held_is_left_alone(cli, repo):
    """An ingest holds the lock file beside its work directory for as long as it lives,
    however old the files in it are; once the holder is gone, both go."""
    import fcntl
    import os
    work = staging_leftover(repo)
    lock = work.with_name(work.name + ".lock")
    lock.touch()
    age(work)
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
        assert result.code == 0 and _codes(result.json()) == ["CHK-W001"]
        assert work.is_dir()
    finally:
        os.close(fd)  # the ingest died
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert result.code == 0 and [a["action"] for a in result.json()["actions"]] == ["removed"]
    assert list((repo / "staging").iterdir()) == []


def test_catalog_ahead_of_a_restored_object_is_only_reported(cli, repo, tmp_path):
    """The object restored from last week's copy lacks the version the catalog records: only
    the operator can fetch it, so check reports it and changes nothing."""
    ingest(cli, repo, tmp_path, "behind")
    saved = tmp_path / "saved-object"
    shutil.copytree(object_dir(repo, "behind"), saved)
    ingest(cli, repo, tmp_path, "behind", {"page 1.txt": b"revised\n"}, as_version_of=True)
    shutil.rmtree(object_dir(repo, "behind"))
    shutil.copytree(saved, object_dir(repo, "behind"))
    age(object_dir(repo, "behind"))
    events = len(cli("--repo", repo, "--json", "log").json()["events"])
    result = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert result.code == 12
    [found] = result.json()["found"]
    assert found["code"] == "CHK-E006" and found["repair"] == "nothing (needs the operator)"
    assert "v1" in found["message"] and "2 version(s)" in found["message"]
    assert result.json()["actions"] == []
    assert len(cli("--repo", repo, "--json", "log").json()["events"]) == events


def test_an_interrupted_ingests_intent_record_is_kept(cli, repo, tmp_path):
    """A dead work directory holding `intent.json` is reported (CHK-E009), never removed:
    it is what lets re-running that ingest complete and record its stored version."""
    work = staging_leftover(repo, "ingest-fedcba9876543210fedcba9876543210")
    (work / "intent.json").write_text('{"format": 1}', encoding="utf-8")
    age(work)
    result = cli("--repo", repo, "--json", "check")
    assert result.code == 12, result.err
    assert _codes(result.json()) == ["CHK-E009"]
    repaired = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert repaired.code == 12, repaired.err  # still needs the operator
    assert (work / "intent.json").is_file()
