"""Fixity audits end to end through the real CLI (issue 4; STYLE.md "Corruption tests"):
flip a byte, truncate, delete, add a file, edit an inventory, edit or delete an event row;
each gives its finding code, exit 12, a quarantined copy where it applies and an event."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from preserve.catalog import Catalog, sqlite_url
from preserve.model import EventOutcome, EventType
from preserve.storage import object_path_for
from tests.builders import write_bag

FILES = {"page-1.txt": b"first page\n", "page-2.txt": b"second page\n",
         "Рукописи/лист.txt": "лист\n".encode()}


def ingest(cli, repo: Path, tmp_path: Path, package_id: str, files=FILES) -> Path:
    bag = write_bag(tmp_path / f"bag-{package_id}", files)
    result = cli("--repo", repo, "-q", "ingest", bag, "--id", package_id)
    assert result.code == 0, result.err
    return repo / "ocfl" / object_path_for(package_id)


def audit(cli, repo: Path, *args: str):
    return cli("--repo", repo, "--json", "audit", *args)


def catalog(repo: Path) -> Catalog:
    return Catalog(sqlite_url(repo / "catalog.sqlite"))


def codes(document: dict) -> list[str]:
    return sorted({f["code"] for f in document["findings"]})


def copy_of(repo: Path, package_id: str, path: str):
    with catalog(repo) as cat:
        [f] = [f for f in cat.get_package(package_id).files if f.path == path]
        return f.copies[0]


def last_fixity_event(repo: Path, package_id: str):
    with catalog(repo) as cat:
        events = [e for e in cat.events(package_id) if e.type is EventType.FIXITY_CHECK]
    return events[-1]


def test_clean_repository_passes(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    result = audit(cli, repo)
    assert result.code == 0, result.err
    d = result.json()
    assert set(d) >= {"run_id", "checked", "bytes", "passed", "failed", "missing", "unexpected"}
    assert d["checked"] == d["passed"] > 3 and d["failed"] == d["missing"] == d["unexpected"] == []
    assert d["chain_ok"] is True and d["bytes"] > 0
    event = last_fixity_event(repo, "pkg-1")
    assert event.outcome is EventOutcome.SUCCESS and "preserve 0.1.0" in event.detail
    assert copy_of(repo, "pkg-1", "data/page-1.txt").last_fixity_outcome == "pass"
    with catalog(repo) as cat:
        [run] = cat.audit_runs()
    assert (run.id, run.status, run.checked, run.passed) == (d["run_id"], "passed", d["checked"],
                                                               d["checked"])
    # Nothing is due any more: a second default run checks nothing and passes.
    again = audit(cli, repo)
    assert again.code == 0 and again.json()["checked"] == 0


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:3])


@pytest.mark.parametrize("damage", [flip, truncate], ids=["flip", "truncate"])
def test_damaged_content_is_quarantined_and_left_in_place(cli, repo, tmp_path, damage):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    stored = obj / "v1/content/data/Рукописи/лист.txt"
    damage(stored)
    damaged_bytes = stored.read_bytes()
    result = audit(cli, repo, "--all", "--report", tmp_path / "report.html")
    assert result.code == 12, result.err
    d = result.json()
    assert codes(d) == ["AUD-E001"]
    assert d["failed"] == [{"package_id": "pkg-1", "path": "data/Рукописи/лист.txt",
                            "problem": "damaged", "code": "AUD-E001"}]
    # The evidence stays in place, unchanged; a copy and a note are in quarantine.
    assert stored.read_bytes() == damaged_bytes
    kept = (repo / "quarantine" / str(d["run_id"]) / object_path_for("pkg-1")
            / "v1/content/data/Рукописи/лист.txt")
    assert kept.read_bytes() == damaged_bytes
    note = json.loads(kept.with_name(kept.name + ".audit.json").read_text("utf-8"))
    assert note["expected"]["sha512"] == hashlib.sha512(FILES["Рукописи/лист.txt"]).hexdigest()
    assert note["found"]["sha512"] == hashlib.sha512(damaged_bytes).hexdigest()
    assert copy_of(repo, "pkg-1", "data/Рукописи/лист.txt").status == "damaged"
    assert copy_of(repo, "pkg-1", "data/page-1.txt").status == "ok"
    event = last_fixity_event(repo, "pkg-1")
    assert event.outcome is EventOutcome.FAILURE
    assert "v1/content/data/Рукописи/лист.txt" in event.object_paths
    page = (tmp_path / "report.html").read_text("utf-8")
    assert "data/Рукописи/лист.txt" in page and "AUD-E001" in page and "<script" not in page


def test_deleted_content_is_missing(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    (obj / "v1/content/data/page-2.txt").unlink()
    result = audit(cli, repo, "--all")
    assert result.code == 12
    d = result.json()
    assert codes(d) == ["AUD-E006"]
    assert d["missing"] == [{"package_id": "pkg-1", "path": "data/page-2.txt"}]
    assert copy_of(repo, "pkg-1", "data/page-2.txt").status == "missing"
    assert last_fixity_event(repo, "pkg-1").outcome is EventOutcome.FAILURE


def test_unexpected_file_is_reported_and_left(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    planted = obj / "v1/content/data/planted.bin"
    planted.write_bytes(b"who put this here")
    result = audit(cli, repo, "--all")
    assert result.code == 12
    d = result.json()
    assert codes(d) == ["AUD-E008"]
    assert d["unexpected"] == [{"package_id": "pkg-1", "path": "v1/content/data/planted.bin",
                                "code": "AUD-E008"}]
    assert planted.read_bytes() == b"who put this here"
    assert last_fixity_event(repo, "pkg-1").outcome is EventOutcome.FAILURE


def test_edited_inventory_fails_its_sidecar(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    inventory = obj / "inventory.json"
    inventory.write_bytes(inventory.read_bytes().replace(b'"v1"', b'"v1" ', 1))
    result = audit(cli, repo, "--all")
    assert result.code == 12
    assert codes(result.json()) == ["AUD-E005"]
    assert last_fixity_event(repo, "pkg-1").outcome is EventOutcome.FAILURE


def test_a_version_inventory_that_differs_from_the_root_is_read_for_its_verdict(
        cli, repo, tmp_path):
    # The head version's inventory is normally the root's very bytes and is not parsed
    # twice; one that is not goes through the full reading and is reported on its own.
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    inventory = obj / "v1" / "inventory.json"
    inventory.write_bytes(inventory.read_bytes().replace(b'"v1"', b'"v1" ', 1))
    result = audit(cli, repo, "--all")
    assert result.code == 12
    assert [(f["code"], f["path"]) for f in result.json()["findings"]] == [
        ("AUD-E005", "v1/inventory.json")]


def test_inventory_and_catalog_disagreements_say_which_side(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    # pkg-1: the inventory lies about page-1 (sidecar rewritten to match, as a careless
    # tool would); pkg-2: the catalog row lies.
    inventory = json.loads((obj / "inventory.json").read_text("utf-8"))
    [digest] = [d for d, paths in inventory["manifest"].items()
                if "v1/content/data/page-1.txt" in paths]
    inventory["manifest"]["f" * 128] = inventory["manifest"].pop(digest)
    data = json.dumps(inventory).encode()
    (obj / "inventory.json").write_bytes(data)
    (obj / "inventory.json.sha512").write_text(f"{hashlib.sha512(data).hexdigest()} inventory.json\n")
    connection = sqlite3.connect(repo / "catalog.sqlite")
    connection.execute("UPDATE files SET sha512 = ? WHERE package_id = 'pkg-2' AND path = ?",
                       ("e" * 128, "data/other.txt"))
    connection.commit()
    connection.close()
    d = audit(cli, repo, "--all").json()
    found = {(f["package_id"], f["code"], f["path"]) for f in d["findings"]}
    assert ("pkg-1", "AUD-E003", "data/page-1.txt") in found
    assert ("pkg-2", "AUD-E002", "data/other.txt") in found
    assert not (repo / "quarantine" / str(d["run_id"])).exists()  # the content is intact


def test_objects_and_packages_that_do_not_match(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    # pkg-1's object vanishes from storage; an object nobody catalogued appears.
    shutil.move(obj, tmp_path / "moved-away")
    stranger = repo / "ocfl" / object_path_for("stranger")
    stranger.parent.mkdir(parents=True)
    shutil.copytree(repo / "ocfl" / object_path_for("pkg-2"), stranger)
    inventory = json.loads((stranger / "inventory.json").read_text("utf-8"))
    inventory["id"] = "stranger"
    data = json.dumps(inventory).encode()
    (stranger / "inventory.json").write_bytes(data)
    (stranger / "inventory.json.sha512").write_text(f"{hashlib.sha512(data).hexdigest()} inventory.json\n")
    result = audit(cli, repo, "--all")
    assert result.code == 12
    d = result.json()
    assert {"AUD-E009", "AUD-E010", "AUD-E006"} <= set(codes(d))
    assert {"package_id": None, "path": object_path_for("stranger"), "code": "AUD-E010"} \
        in d["unexpected"]
    assert copy_of(repo, "pkg-1", "data/page-1.txt").status == "missing"


@pytest.mark.parametrize("attack", ["edit", "delete"])
def test_tampered_event_log_fails_the_audit(cli, repo, tmp_path, attack):
    ingest(cli, repo, tmp_path, "pkg-1")
    connection = sqlite3.connect(repo / "catalog.sqlite")
    connection.execute("DROP TRIGGER events_no_update")
    connection.execute("DROP TRIGGER events_no_delete")
    if attack == "edit":
        connection.execute("UPDATE events SET outcome_detail = 'nothing to see' WHERE id = 2")
    else:
        connection.execute("DELETE FROM events WHERE id = 2")
    connection.commit()
    connection.close()
    verify = cli("--repo", repo, "--json", "log", "verify")
    assert verify.code == 12
    bad = verify.json()
    assert bad["ok"] is False and bad["first_bad_id"] == (2 if attack == "edit" else 3)
    result = audit(cli, repo)
    assert result.code == 12
    d = result.json()
    # Dropping the triggers is itself reported (issue 18).
    assert d["chain_ok"] is False and codes(d) == ["AUD-E011", "AUD-E015"]
    assert last_fixity_event(repo, "pkg-1").type is EventType.FIXITY_CHECK


def test_budgeted_runs_take_least_recently_checked_first_and_cover_everything(
        cli, repo, tmp_path, monkeypatch):
    for n in range(2):
        ingest(cli, repo, tmp_path, f"pkg-{n}", {f"f{i}.txt": f"{n}/{i}\n".encode()
                                                 for i in range(2)})
    with catalog(repo) as cat:
        total = len(cat.due_copies(location="local", checked_before=cat_time(), limit=10_000))
    assert total >= 12
    runs = []
    while True:
        d = audit(cli, repo, "--max-files", "3").json()
        if d["checked"] == 0:
            break
        assert d["checked"] <= 3
        runs.append(d)
    assert sum(d["checked"] for d in runs) == total
    assert len(runs) == -(-total // 3)
    # Everything checked once; with a tiny interval all are due again, oldest check first.
    with catalog(repo) as cat:
        order = sorted(cat.due_copies(location="local", checked_before=cat_time(), limit=10_000),
                       key=lambda c: (c.last_fixity_at, c.file_id))
    monkeypatch.setenv("PRESERVE_AUDIT_INTERVAL_DAYS", "0.0000001")
    d = audit(cli, repo, "--max-files", "3").json()
    assert d["checked"] == 3
    with catalog(repo) as cat:
        rechecked = {c.file_id for c in cat.due_copies(location="local",
                                                        checked_before=cat_time(),
                                                        limit=10_000)
                     if c.last_fixity_at > order[-1].last_fixity_at}
    assert rechecked == {c.file_id for c in order[:3]}
    # A byte budget stops before the file that would exceed it (one file at least).
    d = audit(cli, repo, "--all", "--max-bytes", "1").json()
    assert d["checked"] == 1 and d["stopped_by"] == "max-bytes"
    d = audit(cli, repo, "--all", "--max-duration", "0").json()
    assert d["checked"] == 0 and d["stopped_by"] == "max-duration"


def cat_time():
    import datetime as dt
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def test_one_package_and_rate_limit(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    d = audit(cli, repo, "--package", "pkg-2", "--max-rate", "50", "--workers", "2").json()
    assert {p["package_id"] for p in d["packages"]} == {"pkg-2"}
    assert audit(cli, repo, "--package", "nope").code == 2
    assert audit(cli, repo, "--all", "--package", "pkg-1").code == 10


def test_overlapping_runs_are_refused(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    from preserve.audit import audit_lock
    with audit_lock(repo):
        result = audit(cli, repo)
    assert result.code == 13
    assert f"another audit is running (pid {os.getpid()})" in result.err
    assert audit(cli, repo).code == 0  # released


def test_unreachable_storage_exits_13(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    (repo / "ocfl" / "0=ocfl_1.1").unlink()
    assert audit(cli, repo).code == 13


def test_small_batches_and_object_cache_report_each_problem_once(cli, repo, tmp_path,
                                                                  monkeypatch):
    import preserve.audit.run as audit_run
    monkeypatch.setattr(audit_run, "BATCH", 2)
    monkeypatch.setattr(audit_run, "OBJECT_CACHE", 1)
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    (obj / "v1/content/data/page-2.txt").unlink()
    (obj / "v1/content/data/planted.bin").write_bytes(b"x")
    d = audit(cli, repo, "--all").json()
    with catalog(repo) as cat:
        total = sum(len(cat.get_package(p).files) for p in ("pkg-1", "pkg-2"))
    assert d["checked"] == total
    assert sorted(f["code"] for f in d["findings"]) == ["AUD-E006", "AUD-E008"]


# --- issue 11 item 2: known damage stays visible until it is repaired -------------------------


def test_pipelined_batches_check_each_copy_once_and_keep_the_budgets(cli, repo, tmp_path,
                                                                    monkeypatch):
    # Batches of one copy, PIPELINE of them read ahead while the oldest is recorded: every
    # due-copy query leaves out the copies in flight, so none is checked twice in a run.
    import preserve.audit.run as audit_run
    monkeypatch.setattr(audit_run, "BATCH", 1)
    for n in range(3):
        ingest(cli, repo, tmp_path, f"pkg-{n}", {f"f{i}.txt": f"{n}/{i}\n".encode()
                                                 for i in range(3)})
    with catalog(repo) as cat:
        total = len(cat.due_copies(location="local", checked_before=cat_time(), limit=10_000))
    first = audit(cli, repo, "--max-files", "4").json()
    assert (first["checked"], first["stopped_by"]) == (4, "max-files")
    rest = audit(cli, repo).json()
    assert (rest["checked"], rest["stopped_by"]) == (total - 4, None)
    every = audit(cli, repo, "--all").json()
    assert every["checked"] == every["passed"] == total and every["status"] == "passed"
    with catalog(repo) as cat:
        assert cat.due_copies(location="local", checked_before=every_started(every),
                              limit=10) == []


def every_started(document: dict):
    import datetime as dt
    return dt.datetime.fromisoformat(document["started"])


def test_known_damage_stays_visible_until_repaired(cli, repo, tmp_path):
    # The same content in v1 and v2 (OCFL deduplication): one stored file, two logical ones.
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    bag2 = write_bag(tmp_path / "bag-v2", {**FILES, "page-3.txt": b"third\n"})
    assert cli("--repo", repo, "-q", "ingest", bag2, "--as-version-of", "pkg-1").code == 0
    stored = obj / "v1/content/data/page-1.txt"
    good = stored.read_bytes()
    flip(stored)
    first = audit(cli, repo, "--all")
    assert first.code == 12
    d = first.json()
    assert [f["code"] for f in d["findings"]].count("AUD-E001") == 1  # one problem, not two
    [open_problem] = d["open_problems"]
    assert open_problem["content_path"] == "v1/content/data/page-1.txt"
    assert open_problem["status"] == "damaged" and open_problem["paths"] == ["data/page-1.txt"]
    # The next nightly run: nothing is due, yet the damage is reported and it exits 12,
    # also with a budget; the damaged copy was re-checked.
    for args in ((), ("--max-files", "1")):
        again = audit(cli, repo, *args)
        assert again.code == 12, again.out
        a = again.json()
        assert [o["content_path"] for o in a["open_problems"]] == ["v1/content/data/page-1.txt"]
        assert a["open_problems"][0]["since"] == open_problem["since"]
        assert "AUD-E001" in codes(a) and a["checked"] >= 2
    listed = cli("--repo", repo, "list")
    assert "DAMAGED" in listed.out and "pkg-1" in listed.out
    assert "DAMAGED: v1/content/data/page-1.txt" in cli("--repo", repo, "show", "pkg-1").out
    check = cli("--repo", repo, "--json", "check")
    assert check.code != 0 and "CHK-E012" in check.out
    # Repaired: the next run passes, says so in a PREMIS event, and nothing stays open.
    stored.write_bytes(good)
    healed = audit(cli, repo)
    assert healed.code == 0, healed.out
    h = healed.json()
    assert h["open_problems"] == [] and h["recovered"] == [
        {"package_id": "pkg-1", "content_path": "v1/content/data/page-1.txt"}]
    event = last_fixity_event(repo, "pkg-1")
    assert event.outcome is EventOutcome.SUCCESS and "passes its fixity check again" in event.detail
    assert "DAMAGED" not in cli("--repo", repo, "list").out


# --- issue 11 item 3: cutting the end off the event log -----------------------------------------


def _drop_triggers(repo: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(repo / "catalog.sqlite")
    connection.execute("DROP TRIGGER events_no_update")
    connection.execute("DROP TRIGGER events_no_delete")
    return connection


@pytest.mark.parametrize("cut", [1, 3])
def test_events_cut_off_the_end_are_caught(cli, repo, tmp_path, cut):
    ingest(cli, repo, tmp_path, "pkg-1")
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    head = cli("--repo", repo, "--json", "log", "verify").json()["head"]
    connection = _drop_triggers(repo)
    connection.execute("DELETE FROM events WHERE id > (SELECT max(id) FROM events) - ?", (cut,))
    connection.commit()
    connection.close()
    verify = cli("--repo", repo, "--json", "log", "verify")
    assert verify.code == 12
    v = verify.json()
    assert v["ok"] is False and "cut off its end" in v["problem"]
    assert v["anchored"] == head and v["head"]["events"] == head["events"] - cut
    d = audit(cli, repo).json()
    assert d["chain_ok"] is False and "AUD-E011" in codes(d)
    assert d["chain_anchored"] == head


def test_a_whole_log_replaced_by_a_shorter_valid_one_is_caught(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    before = sqlite3.connect(repo / "catalog.sqlite").execute(
        "SELECT count(*) FROM events").fetchone()[0]
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    # An attacker with the database restores an older copy of the events table (a valid
    # chain, just shorter) and appends one forged event of their own, chained properly.
    connection = _drop_triggers(repo)
    connection.execute("DELETE FROM events WHERE id > ?", (before,))
    connection.commit()
    connection.close()
    with catalog(repo) as cat:
        from preserve.model import Event, software_agent, utc_now
        cat.append_events([Event(type=EventType.FIXITY_CHECK, outcome=EventOutcome.SUCCESS,
                                 time=utc_now(), agent=software_agent(), package_id="pkg-1")])
    verify = cli("--repo", repo, "--json", "log", "verify")
    assert verify.code == 12 and "anchored in storage" in verify.json()["problem"]
    assert audit(cli, repo).json()["chain_ok"] is False


def test_audit_prints_the_chain_head(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    d = audit(cli, repo).json()
    # The head after the run's own events: what `log verify` finds now.
    verify = cli("--repo", repo, "--json", "log", "verify").json()
    assert d["chain_head"] == verify["head"] and verify["head"]["events"] >= 2
    text = cli("--repo", repo, "audit", "--all")
    assert "event log head after this run:" in text.out


# --- issue 11 item 4: the storage root is fully accounted for -----------------------------------


def test_stray_paths_in_the_storage_root_are_findings(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    layout_dir = obj.parent  # ocfl/abc/def/012
    (layout_dir.parent / "stray.txt").write_text("who put this here")
    (repo / "ocfl" / "notes").mkdir()
    undeclared = layout_dir / ("f" * 64)
    undeclared.mkdir()
    (undeclared / "inventory.json").write_text("{}")
    empty = layout_dir / ("e" * 64)
    empty.mkdir()
    d = audit(cli, repo, "--all")
    assert d.code == 12
    found = {(f["code"], f["path"]) for f in d.json()["findings"]}
    root = repo / "ocfl"
    assert ("AUD-E016", (layout_dir.parent / "stray.txt").relative_to(root).as_posix()) in found
    assert ("AUD-E016", "notes") in found
    assert ("AUD-E017", undeclared.relative_to(root).as_posix()) in found
    assert ("AUD-E017", empty.relative_to(root).as_posix()) in found
    check = cli("--repo", repo, "--json", "check")
    assert check.code != 0
    assert {"CHK-E010", "CHK-E011"} <= {f["code"] for f in check.json()["findings"]}


# --- issue 18: tampering that rewrites every copy the catalog compares --------------------------


def test_content_rewritten_everywhere_but_the_bag_manifest_is_caught(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    content = "v1/content/data/page-1.txt"
    forged = b"forged page\n"
    old512 = hashlib.sha512(FILES["page-1.txt"]).hexdigest()
    new512, new256 = hashlib.sha512(forged).hexdigest(), hashlib.sha256(forged).hexdigest()
    (obj / content).write_bytes(forged)
    for where in (obj, obj / "v1"):
        text = (where / "inventory.json").read_text("utf-8")
        text = text.replace(old512, new512).replace(
            hashlib.sha256(FILES["page-1.txt"]).hexdigest(), new256)
        (where / "inventory.json").write_text(text, "utf-8")
        digest = hashlib.sha512(text.encode()).hexdigest()
        (where / "inventory.json.sha512").write_text(f"{digest} inventory.json\n")
    connection = sqlite3.connect(repo / "catalog.sqlite")
    connection.execute("UPDATE files SET sha512 = ?, sha256 = ?, size = ? WHERE path = ?",
                       (new512, new256, len(forged), "data/page-1.txt"))
    connection.execute("UPDATE package_versions SET inventory_sha512 = ?", (digest,))
    connection.commit()
    connection.close()
    result = audit(cli, repo, "--all")
    assert result.code == 12
    [finding] = [f for f in result.json()["findings"] if f["code"] == "AUD-E013"]
    assert finding["path"] == "data/page-1.txt"
    assert "file and catalog and inventory agree" in finding["message"]
    assert "bag manifest says" in finding["message"]


def test_rewritten_inventory_message_is_caught(cli, repo, tmp_path):
    obj = ingest(cli, repo, tmp_path, "pkg-1")
    for where in (obj, obj / "v1"):
        inventory = json.loads((where / "inventory.json").read_text("utf-8"))
        inventory["versions"]["v1"]["message"] = "nothing happened here"
        data = json.dumps(inventory).encode()
        (where / "inventory.json").write_bytes(data)
        (where / "inventory.json.sha512").write_text(
            f"{hashlib.sha512(data).hexdigest()} inventory.json\n")
    result = audit(cli, repo, "--all")
    assert result.code == 12
    assert {f["path"] for f in result.json()["findings"] if f["code"] == "AUD-E014"} == {
        "inventory.json", "v1/inventory.json"}


def test_dropped_triggers_are_reported_by_check_and_log_verify(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    _drop_triggers(repo).close()
    check = cli("--repo", repo, "--json", "check")
    assert check.code != 0 and "CHK-E013" in check.out
    verify = cli("--repo", repo, "--json", "log", "verify")
    assert verify.code == 12
    assert verify.json()["missing_triggers"] == ["events_no_update", "events_no_delete"]


# --- issue 18: the clock -------------------------------------------------------------------------


def test_check_times_in_the_future_are_due_again_and_reported(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    assert audit(cli, repo, "--all").code == 0
    # What `faketime +3650d preserve audit --all` leaves behind: every copy checked in 2036.
    connection = sqlite3.connect(repo / "catalog.sqlite")
    connection.execute("UPDATE copies SET last_fixity_at = '2036-12-01 00:00:00.000000'")
    connection.commit()
    connection.close()
    result = audit(cli, repo)
    assert result.code == 0, result.out
    d = result.json()
    with catalog(repo) as cat:
        total = len(cat.get_package("pkg-1").files)
    assert d["checked"] == total  # all due again, not excused for ten years
    [warning] = [w for w in d["warnings"] if w["code"] == "AUD-W002"]
    assert "jumped back" in warning["message"]
    assert "jumped back" in last_fixity_event(repo, "pkg-1").outcome_detail
    with catalog(repo) as cat:
        assert all(c.last_fixity_at.year < 2036 for f in cat.get_package("pkg-1").files
                   for c in f.copies)


def test_an_event_edited_and_the_chain_recomputed_forward_is_caught(cli, repo, tmp_path):
    """Issue 18: the hashing code is in the repository, so an attacker with the database can
    edit an event and recompute every later hash; the chain alone then verifies."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session, aliased

    from preserve.catalog import chain, eventlog
    from preserve.catalog.records import AgentRecord, EventRecord

    ingest(cli, repo, tmp_path, "pkg-1")
    ingest(cli, repo, tmp_path, "pkg-2", {"other.txt": b"other\n"})
    _drop_triggers(repo).close()
    engine = create_engine(f"sqlite:///{repo / 'catalog.sqlite'}")
    person = aliased(AgentRecord)
    with Session(engine) as session:
        rows = session.execute(select(EventRecord, AgentRecord.identifier, person.identifier)
                               .join(AgentRecord, EventRecord.agent_id == AgentRecord.id)
                               .outerjoin(person, EventRecord.person_agent_id == person.id)
                               .order_by(EventRecord.id)).all()
        previous = chain.GENESIS_HASH
        for record, agent, person_id in rows:
            if record.id == 2:
                record.outcome_detail = "nothing to see"
            record.prev_hash = previous
            record.hash = chain.link_hash(eventlog._link(record, agent, person_id))
            previous = record.hash
        session.commit()
    engine.dispose()
    with catalog(repo) as cat:  # no anchor: the chain itself is consistent again
        assert cat.verify_chain().ok
    verify = cli("--repo", repo, "--json", "log", "verify")
    assert verify.code == 12 and "replaced or rewritten" in verify.json()["problem"]
    d = audit(cli, repo).json()
    assert d["chain_ok"] is False and {"AUD-E011", "AUD-E015"} <= set(codes(d))
