"""`ingest --defer identify,replicate` (issue 14): the ingest leaves PRONOM identification
and replication to queued jobs; a worker killed with kill -9 mid-job, another finishes, and
each event is recorded once."""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from preserve.catalog import Catalog
from preserve.catalog.engine import make_engine
from preserve.jobs.identify import event_identifier, identify_version
from tests.builders import write_bag
from tests.jobs.conftest import (
    Worker,
    catalog_url,
    events_of,
    finished_requeued,
    idle,
    jobs,
    kill_mid_task_then_finish,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

FILES = {"a.txt": b"plain text\n", "img/b.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 64}


def _ingest_deferred(cli, home: Path, tmp_path: Path, package: str,
                     files: dict[str, bytes], defer: str = "identify,replicate"):
    bag = write_bag(tmp_path / f"deposit-{package}", files | {"id.txt": package.encode()})
    result = cli("--repo", home, "--json", "ingest", bag, "--id", package, "--defer", defer)
    assert result.code == 0, result.err
    return result.json()


def _formats(home: Path, package: str) -> dict[str, str | None]:
    with Catalog(catalog_url(home)) as catalog:
        return {f.path: f.format for f in catalog.get_package(package).files
                if f.path.startswith("data/")}


def _stored_mets(home: Path, package: str) -> bytes:
    texts = [p.read_bytes() for p in home.rglob("mets.xml")
             if f'OBJID="{package}"'.encode() in p.read_bytes()]
    assert len(texts) == 1, texts
    return texts[0]


def test_defer_is_refused_on_sqlite(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "deposit", FILES)
    result = cli("--repo", repo, "ingest", bag, "--defer", "identify")
    assert result.code == 2, result.err
    assert "PostgreSQL" in result.err and "SQLite" in result.err


def test_defer_unknown_work_is_a_usage_error(cli, pg_repo, tmp_path):
    bag = write_bag(tmp_path / "deposit", FILES)
    assert cli("--repo", pg_repo, "ingest", bag, "--defer", "audit").code == 2


def test_deferred_identify_and_replicate_run_in_a_worker(cli, pg_repo, tmp_path, workers):
    done = _ingest_deferred(cli, pg_repo, tmp_path, "later", FILES)
    assert [d["job"] for d in done["deferred"]] == ["identify", "replicate"]
    assert all(len(d["created"]) == 1 for d in done["deferred"])
    text = cli("--repo", pg_repo, "ingest", write_bag(tmp_path / "d2", {"x.txt": b"x\n"}),
               "--id", "later-2", "--defer", "identify")
    assert text.code == 0, text.err
    assert "carries no PRONOM ids" in text.out
    # Stored and recorded, without formats, events or copies elsewhere yet.
    assert set(_formats(pg_repo, "later").values()) == {None}
    assert events_of(pg_repo, "later", "format identification") == []
    assert events_of(pg_repo, "later", "replication") == []
    assert b"PRONOM" not in _stored_mets(pg_repo, "later")
    worker = Worker(pg_repo, tmp_path / "w.log", "--concurrency", "2")
    workers.append(worker)
    wait_for(lambda: idle(cli, pg_repo), what="deferred jobs")
    assert worker.stop() == 0
    assert jobs(cli, pg_repo, "failed") == []
    formats = _formats(pg_repo, "later")
    assert formats["data/a.txt"] == "x-fmt/111"
    assert formats["data/id.txt"] == "x-fmt/111"  # b.png of zeros matches no signature
    with Catalog(catalog_url(pg_repo)) as catalog:  # and PRONOM's name (issue 16 §6)
        [a_txt] = [f for f in catalog.get_package("later").files if f.path == "data/a.txt"]
    assert a_txt.format_name == "Plain Text File"
    identified = events_of(pg_repo, "later", "format identification")
    assert [e.identifier for e in identified] == [event_identifier("later", 1)]
    assert "deferred" in identified[0].detail
    made = Counter(re.search(r"to location '(\w+)'", e.detail).group(1)
                   for e in events_of(pg_repo, "later", "replication"))
    assert made == {"s3": 1, "vault": 1}
    # An export carries the formats the job recorded, and its event.
    exported = cli("--repo", pg_repo, "export", "later", tmp_path / "out")
    assert exported.code == 0, exported.err
    mets = [p.read_bytes() for p in (tmp_path / "out").rglob("*.xml")
            if b"format identification" in p.read_bytes()]
    assert mets and b"x-fmt/111" in mets[0] and event_identifier("later", 1).encode() in mets[0]
    assert cli("--repo", pg_repo, "log", "verify").code == 0
    assert cli("--repo", pg_repo, "audit", "--all").code == 0


def test_identify_run_again_or_twice_at_once_records_one_event(cli, pg_repo, tmp_path):
    _ingest_deferred(cli, pg_repo, tmp_path, "twice", FILES, defer="identify")
    env = _environment(pg_repo)
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(
        identify_version(env, "twice", 1))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["recorded"] for r in results) == [False, False, True]
    assert identify_version(env, "twice", 1)["recorded"] is False
    assert len(events_of(pg_repo, "twice", "format identification")) == 1
    assert _formats(pg_repo, "twice")["data/a.txt"] == "x-fmt/111"
    assert cli("--repo", pg_repo, "log", "verify").code == 0


def test_kill_9_mid_identify_another_worker_finishes(cli, pg_repo, tmp_path, workers):
    # Many files: the job reads the catalog, loads siegfried and identifies them all.
    many = {f"f/{n:04d}.txt": f"line {n}\n".encode() * 20 for n in range(1500)}
    _ingest_deferred(cli, pg_repo, tmp_path, "many", many, defer="identify")
    queue = ("--queues", "identify")
    second = kill_mid_task_then_finish(cli, pg_repo, tmp_path, workers, "preserve.identify",
                                       0.1, first=queue, second=queue, timeout=120)
    finished_requeued(second)
    assert jobs(cli, pg_repo, "failed") == []
    assert len(events_of(pg_repo, "many", "format identification")) == 1
    assert set(_formats(pg_repo, "many").values()) == {"x-fmt/111"}
    assert cli("--repo", pg_repo, "log", "verify").code == 0
    assert cli("--repo", pg_repo, "audit", "--all").code == 0


def _environment(home: Path):
    """The JobEnvironment a worker on `home` builds (through the CLI's own state)."""
    from preserve.cli.context import AppState
    return AppState(repo=home).job_environment()


# --- export jobs ----------------------------------------------------------------------------

def _transfers(home: Path, package: str, outcome: str = "success") -> list:
    return [e for e in events_of(home, package, "transfer")
            if str(getattr(e.outcome, "value", e.outcome)) == outcome]


def test_export_enqueue_is_refused_on_sqlite(cli, repo, tmp_path):
    assert cli("--repo", repo, "export", "nothing", tmp_path, "--enqueue").code == 2


def test_queued_export_runs_once(cli, pg_repo, tmp_path, workers):
    from tests.jobs.conftest import ingest
    ingest(cli, pg_repo, tmp_path, "out", FILES)
    dest = tmp_path / "exports"
    dest.mkdir()
    queued = cli("--repo", pg_repo, "--json", "export", "out", dest, "--format", "zip",
                 "--enqueue")
    assert queued.code == 0, queued.err
    target = Path(queued.json()["path"])
    assert target.parent == dest and target.name == "out-v1.zip"
    again = cli("--repo", pg_repo, "--json", "export", "out", dest, "--format", "zip",
                "--enqueue")
    assert again.json()["created"] == [] and again.json()["already_queued"] == 1
    worker = Worker(pg_repo, tmp_path / "w.log")
    workers.append(worker)
    wait_for(lambda: idle(cli, pg_repo), what="the export")
    assert worker.stop() == 0
    done = jobs(cli, pg_repo, "succeeded")
    assert [j["task"] for j in done] == ["preserve.export"]
    assert sorted(p.name for p in dest.iterdir()) == ["out-v1.zip"]
    assert len(_transfers(pg_repo, "out")) == 1
    # The job run again (as after a kill once it had recorded) changes nothing.
    from preserve.jobs.export import export_job
    args = done[0]["args"]
    again_run = export_job(_environment(pg_repo), **args)
    assert again_run["exported_by_earlier_run"] is True
    # A run killed between publishing and recording is recognised by the run identifier
    # in the published METS (the retry then records the event it was missing).
    from preserve.export import ExportFormat
    from preserve.jobs.export import _published_by, run_identifier
    ours = run_identifier(args["export_id"], 0)
    assert _published_by(target, ExportFormat.ZIP, [run_identifier("x", 0), ours]) == ours
    assert _published_by(target, ExportFormat.ZIP, [run_identifier("x", 0)]) is None
    assert sorted(p.name for p in dest.iterdir()) == ["out-v1.zip"]
    assert len(_transfers(pg_repo, "out")) == 1
    assert cli("--repo", pg_repo, "log", "verify").code == 0


@pytest.mark.parametrize("after", [0.05, 0.25])
def test_kill_9_mid_export_another_worker_finishes(cli, pg_repo, tmp_path, workers, after):
    """Killed early: a partial file is left; later: the export may be published without its
    event yet. Either way the retry leaves one export and one transfer event of success."""
    import os

    from tests.jobs.conftest import ingest
    big = {f"scan-{i}.bin": os.urandom(1 << 20) for i in range(40)}
    ingest(cli, pg_repo, tmp_path, "heavy", big)
    dest = tmp_path / "exports"
    dest.mkdir()
    queued = cli("--repo", pg_repo, "--json", "export", "heavy", dest, "--format", "zip",
                 "--enqueue")
    assert queued.code == 0, queued.err
    queue = ("--queues", "export")
    second = kill_mid_task_then_finish(
        cli, pg_repo, tmp_path, workers, "preserve.export", after, first=queue, second=queue,
        on_kill=lambda: print("left at the kill:", sorted(p.name for p in dest.iterdir()),
                              len(_transfers(pg_repo, "heavy")), "event(s)",
                              file=sys.__stderr__))
    finished_requeued(second)
    assert jobs(cli, pg_repo, "failed") == []
    assert sorted(p.name for p in dest.iterdir()) == ["heavy-v1.zip"]
    assert len(_transfers(pg_repo, "heavy")) == 1
    assert _transfers(pg_repo, "heavy", "failure") == []
    assert cli("--repo", pg_repo, "log", "verify").code == 0


# --- the periodic nightly task ------------------------------------------------------------

def test_nightly_task_queues_due_audits_and_deletes_old_jobs(cli, pg_repo, tmp_path, workers,
                                                             monkeypatch):
    from tests.jobs.conftest import ingest
    for pid in ("n1", "n2"):
        ingest(cli, pg_repo, tmp_path, pid, FILES)
    assert cli("--repo", pg_repo, "replicate", "--enqueue", "--package", "n1").code == 0
    # No periodic run here: the replication job just runs and stays as succeeded.
    first = Worker(pg_repo, tmp_path / "first.log", "--nightly", "off")
    workers.append(first)
    wait_for(lambda: idle(cli, pg_repo), what="the replication")
    assert first.stop() == 0
    assert [j["task"] for j in jobs(cli, pg_repo, "succeeded")] == ["preserve.replicate"]
    assert events_of(pg_repo, "n2", "fixity check") == []
    # Every copy due (an interval of about a second), the nightly task every 2 seconds, keep no old job.
    monkeypatch.setenv("PRESERVE_AUDIT_INTERVAL_DAYS", "0.00001")
    # The fleet-wide read cap the nightly audits share (setting audit.max_rate).
    monkeypatch.setenv("PRESERVE_AUDIT_MAX_RATE", "500MB/s")
    assert cli("--repo", pg_repo, "worker", "--nightly", "every night").code == 2
    nightly = Worker(pg_repo, tmp_path / "nightly.log", "--nightly", "* * * * * */2",
                     "--keep-jobs", "0", "--concurrency", "2")
    workers.append(nightly)
    wait_for(lambda: all(events_of(pg_repo, pid, "fixity check") for pid in ("n1", "n2"))
             and "preserve.replicate" not in [j["task"] for j in jobs(cli, pg_repo,
                                                                     "succeeded")],
             timeout=90, what="a nightly run's audits and the old job deleted")
    assert nightly.stop() == 0
    assert "nightly run for" in nightly.text()
    # Its audits read under the shared budget: the ledger holds each audited location.
    engine = make_engine(catalog_url(pg_repo))
    try:
        with engine.connect() as connection:
            ledger = {row[0] for row in connection.execute(text("SELECT location FROM bandwidth"))}
    finally:
        engine.dispose()
    assert "local" in ledger, ledger
    assert jobs(cli, pg_repo, "failed") == []
    assert cli("--repo", pg_repo, "log", "verify").code == 0


# --- repair jobs, killed -------------------------------------------------------------------

def test_kill_9_mid_repair_another_worker_finishes(cli, pg_repo, tmp_path, workers):
    import os

    from preserve.storage import layout
    from tests.jobs.conftest import ingest
    ingest(cli, pg_repo, tmp_path, "mend", {f"scan-{i}.bin": os.urandom(10 << 20)
                                            for i in range(8)})
    assert cli("--repo", pg_repo, "replicate", "--location", "vault").code == 0
    stored = tmp_path / "vault" / layout.object_path_for("mend") / "v1" / "content" / "data"
    for i in range(8):
        (stored / f"scan-{i}.bin").unlink()
    assert cli("--repo", pg_repo, "audit", "--location", "vault", "--all").code != 0
    queued = cli("--repo", pg_repo, "--json", "repair", "--enqueue")
    assert queued.code == 0 and len(queued.json()["created"]) == 1, queued.out
    queue = ("--queues", "repair")
    second = kill_mid_task_then_finish(cli, pg_repo, tmp_path, workers, "preserve.repair", 0.15,
                                       first=queue, second=queue)
    finished_requeued(second)
    assert jobs(cli, pg_repo, "failed") == []
    # One event per restored file, each recorded once.
    repaired = [e for e in events_of(pg_repo, "mend", "replication")
                if e.detail.startswith("repair by")]
    assert all("'vault'" in e.detail for e in repaired)
    restored = Counter(p for e in repaired for p in e.object_paths)
    assert sorted(restored) == sorted(f"v1/content/data/scan-{i}.bin" for i in range(8))
    assert set(restored.values()) == {1}, restored
    assert all((stored / f"scan-{i}.bin").stat().st_size == 10 << 20 for i in range(8))
    assert cli("--repo", pg_repo, "audit", "--all").code == 0
    assert cli("--repo", pg_repo, "log", "verify").code == 0
