"""Background work on the PostgreSQL job queue (issue 14): enqueue, real `preserve worker`
subprocesses, kill -9 in the middle of a job, and what the catalog holds after."""

from __future__ import annotations

import os
import re
import time
from collections import Counter

import pytest

from preserve.jobs import work
from tests.jobs.conftest import (
    Worker,
    events_of,
    finished_requeued,
    idle,
    ingest,
    jobs,
    kill_mid_task_then_finish,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

SMALL = {"a.txt": b"first file\n", "b/c.txt": "второй файл\n".encode()}


def _big(seed: int, megabytes: int = 6) -> dict[str, bytes]:
    return {f"scan-{i}.bin": os.urandom(1 << 20) for i in range(megabytes)} | {
        "note.txt": f"package {seed}\n".encode()}


def test_sqlite_has_no_queue(cli, repo):
    for args in (["replicate", "--enqueue"], ["audit", "--enqueue"], ["worker"], ["jobs"]):
        result = cli("--repo", repo, *args)
        assert result.code == 2, (args, result.err)
        assert "PostgreSQL" in result.err and "SQLite" in result.err


def test_queue_schema_is_applied_by_db_upgrade(cli, pg_repo):
    current = cli("--repo", pg_repo, "--json", "db", "current")
    assert current.code == 0 and current.json()["up_to_date"], current.out
    assert jobs(cli, pg_repo) == []


def test_enqueue_and_two_workers_replicate_and_audit(cli, pg_repo, tmp_path, workers):
    packages = [f"pkg-{n}" for n in range(6)]
    for pid in packages:
        ingest(cli, pg_repo, tmp_path, pid, SMALL)
    queued = cli("--repo", pg_repo, "--json", "replicate", "--enqueue")
    assert queued.code == 0, queued.err
    assert len(queued.json()["created"]) == 6
    again = cli("--repo", pg_repo, "--json", "replicate", "--enqueue")
    assert again.json()["created"] == [] and again.json()["already_queued"] == 6
    workers += [Worker(pg_repo, tmp_path / f"w{i}.log", "--concurrency", "2") for i in (1, 2)]
    wait_for(lambda: idle(cli, pg_repo), what="replication jobs")
    # Replicas were verified when copied, so only the local copies are due; --all takes all.
    due = cli("--repo", pg_repo, "--json", "audit", "--enqueue", "--location", "s3")
    assert due.code == 0 and due.json()["copies"] == 0, due.out
    audit = cli("--repo", pg_repo, "--json", "audit", "--enqueue", "--all")
    assert audit.code == 0, audit.err
    assert audit.json()["copies"] >= 6 * 3 * 3  # three payload files, three locations
    wait_for(lambda: idle(cli, pg_repo), what="audit jobs")
    assert [w.stop() for w in workers] == [0, 0]
    assert jobs(cli, pg_repo, "failed") == []
    done = jobs(cli, pg_repo, "succeeded")
    assert Counter(j["task"] for j in done) == {"preserve.replicate": 6,
                                                "preserve.audit": len(audit.json()["created"])}
    for pid in packages:
        made = events_of(pg_repo, pid, "replication")
        assert sorted(re.search(r"to location '(\w+)'", e.detail).group(1) for e in made) == [
            "s3", "vault"]
        checked = events_of(pg_repo, pid, "fixity check")
        assert sorted(re.search(r"audit of location '(\w+)'", e.detail).group(1)
                      for e in checked) == ["local", "s3", "vault"]
    assert cli("--repo", pg_repo, "log", "verify").code == 0
    nothing_due = cli("--repo", pg_repo, "--json", "audit", "--enqueue")
    assert nothing_due.json()["copies"] == 0
    assert cli("--repo", pg_repo, "audit", "--all").code == 0
    stopped = [w.text() for w in workers]
    assert all("Stopped worker" in text for text in stopped), stopped


def test_kill_9_mid_job_another_worker_finishes(cli, pg_repo, tmp_path, workers):
    packages = ["big-1", "big-2"]
    for n, pid in enumerate(packages):
        ingest(cli, pg_repo, tmp_path, pid, _big(n, megabytes=12))
    # Replication killed half-way, then finished by another worker.
    assert cli("--repo", pg_repo, "replicate", "--enqueue").code == 0
    second = kill_mid_task_then_finish(cli, pg_repo, tmp_path, workers, "preserve.replicate",
                                       0.3, second=("--concurrency", "2"))
    # The queue can look idle for a moment while the dead worker's job is put back: wait for
    # what must result (each package copied to both locations), then check it happened once.
    wait_for(lambda: all(len(events_of(pg_repo, pid, "replication")) >= 2 for pid in packages),
             timeout=120, what="both replications of every package")
    finished_requeued(second)
    # Then an audit killed half-way: a slow reader (12 MiB per package at 4 MB/s).
    assert cli("--repo", pg_repo, "audit", "--enqueue", "--all").code == 0
    fourth = kill_mid_task_then_finish(cli, pg_repo, tmp_path, workers, "preserve.audit", 1.5,
                                       first=("--max-rate", "4MB/s"),
                                       second=("--concurrency", "2"), names=("third", "fourth"))
    wait_for(lambda: all(len(events_of(pg_repo, pid, "fixity check")) >= 3 for pid in packages),
             timeout=120, what="the audit of every package at every location")
    finished_requeued(fourth)
    assert jobs(cli, pg_repo, "failed") == []
    for pid in packages:
        made = Counter(re.search(r"to location '(\w+)'", e.detail).group(1)
                       for e in events_of(pg_repo, pid, "replication"))
        assert made == {"s3": 1, "vault": 1}, (pid, made)
        checked = Counter(re.search(r"audit of location '(\w+)'", e.detail).group(1)
                          for e in events_of(pg_repo, pid, "fixity check"))
        assert checked == {"local": 1, "s3": 1, "vault": 1}, (pid, checked)
    assert cli("--repo", pg_repo, "log", "verify").code == 0
    assert cli("--repo", pg_repo, "audit", "--all").code == 0


def test_two_workers_never_audit_one_copy_at_once(cli, pg_repo, tmp_path, workers):
    packages = [f"p{n}" for n in range(8)]
    for pid in packages:
        ingest(cli, pg_repo, tmp_path, pid, SMALL)
    # Audit and repair of a package at a location share one lock: never at once.
    assert work.copies_lock("s3", "p1") == f"copies:s3:{work.bucket('p1')}"
    workers += [Worker(pg_repo, tmp_path / f"a{i}.log", "--concurrency", "3", "-vv")
                for i in (1, 2)]
    for _ in range(3):  # overlapping enqueues: each batch is queued once
        assert cli("--repo", pg_repo, "audit", "--enqueue", "--all").code == 0
    wait_for(lambda: idle(cli, pg_repo), what="audits")
    assert [w.stop() for w in workers] == [0, 0]
    spans: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for worker in workers:
        for m in re.finditer(r"audit batch (\w+) (\S+) at (\w+) from ([\d.]+) to ([\d.]+)",
                             worker.text()):
            spans.setdefault((m.group(2), m.group(3)), []).append(
                (float(m.group(4)), float(m.group(5))))
    assert {pid for pid, _loc in spans} == set(packages)
    for key, intervals in spans.items():
        intervals.sort()
        for (_s1, e1), (s2, _e2) in zip(intervals, intervals[1:], strict=False):
            assert s2 >= e1, f"{key} audited by two jobs at once: {intervals}"


def test_a_failed_job_is_listed_with_its_error_and_retried(cli, pg_repo, tmp_path, workers):
    ingest(cli, pg_repo, tmp_path, "lonely", SMALL)
    queued = cli("--repo", pg_repo, "--json", "replicate", "--enqueue", "--location", "s3")
    job_id = queued.json()["created"][0]
    # The worker has no credentials for s3: the job fails after its attempts.
    env_keys = ("PRESERVE_LOCATION_S3_ACCESS_KEY", "PRESERVE_LOCATION_S3_SECRET_KEY")
    saved = {k: os.environ.pop(k) for k in env_keys}
    try:
        os.environ["PRESERVE_LOCATION_S3_ACCESS_KEY"] = "wrong"
        os.environ["PRESERVE_LOCATION_S3_SECRET_KEY"] = "wrong"
        bad = Worker(pg_repo, tmp_path / "bad.log", "--queues", "replicate")
        workers.append(bad)
    finally:
        os.environ.update(saved)
    wait_for(lambda: jobs(cli, pg_repo, "failed"), timeout=180, what="the job to fail")
    bad.stop()
    failed = jobs(cli, pg_repo, "failed")
    assert [j["id"] for j in failed] == [job_id]
    assert "credentials" in failed[0]["error"]
    shown = cli("--repo", pg_repo, "jobs")
    assert "error:" in shown.out and str(job_id) in shown.out
    assert cli("--repo", pg_repo, "jobs", "retry", str(job_id)).code == 0
    assert cli("--repo", pg_repo, "jobs", "retry", str(job_id)).code != 0  # todo, not failed
    good = Worker(pg_repo, tmp_path / "good.log")
    workers.append(good)
    wait_for(lambda: idle(cli, pg_repo), what="the retried job")
    assert good.stop() == 0
    assert [j["id"] for j in jobs(cli, pg_repo, "succeeded")] == [job_id]
    assert len(events_of(pg_repo, "lonely", "replication")) >= 1


def test_damage_found_by_a_queued_audit_is_repaired_by_a_queued_repair(cli, pg_repo, tmp_path,
                                                                       workers):
    from preserve.storage import layout
    ingest(cli, pg_repo, tmp_path, "hurt", SMALL)
    assert cli("--repo", pg_repo, "replicate").code == 0
    stored = tmp_path / "vault" / layout.object_path_for("hurt") / "v1" / "content" / "data"
    damaged = stored / "a.txt"
    damaged.write_bytes(b"not the first file\n")
    worker = Worker(pg_repo, tmp_path / "w.log", "--concurrency", "2")
    workers.append(worker)
    assert cli("--repo", pg_repo, "audit", "--enqueue", "--all").code == 0
    wait_for(lambda: idle(cli, pg_repo), what="audits")
    repair = cli("--repo", pg_repo, "--json", "repair", "--enqueue")
    assert repair.code == 0, repair.err
    assert repair.json()["copies"] == 1 and len(repair.json()["created"]) == 1
    wait_for(lambda: idle(cli, pg_repo), what="the repair")
    assert worker.stop() == 0
    assert damaged.read_bytes() == b"first file\n"
    repaired = [e for e in events_of(pg_repo, "hurt", "replication") if "repair" in e.detail]
    assert len(repaired) == 1 and "'vault'" in repaired[0].detail
    assert cli("--repo", pg_repo, "audit", "--all").code == 0
    assert cli("--repo", pg_repo, "log", "verify").code == 0


def test_a_worker_losing_its_database_connections_recovers(cli, pg_repo, tmp_path, workers):
    import psycopg
    ingest(cli, pg_repo, tmp_path, "before", SMALL)
    worker = Worker(pg_repo, tmp_path / "w.log", "--name", "cut")
    workers.append(worker)
    assert cli("--repo", pg_repo, "replicate", "--enqueue").code == 0
    wait_for(lambda: idle(cli, pg_repo), what="the first job")
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    with psycopg.connect(admin, autocommit=True) as connection:
        cut = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'preserve worker cut'").fetchone()[0]
    assert cut >= 1
    ingest(cli, pg_repo, tmp_path, "after", SMALL)
    assert cli("--repo", pg_repo, "replicate", "--enqueue").code == 0
    wait_for(lambda: idle(cli, pg_repo), timeout=90, what="a job after the cut")
    assert worker.process.poll() is None, worker.text()
    assert worker.stop() == 0
    assert len(events_of(pg_repo, "after", "replication")) == 2


def test_max_rate_holds_for_all_workers_together(cli, pg_repo, tmp_path, workers):
    for n in range(4):
        ingest(cli, pg_repo, tmp_path, f"rated-{n}", _big(n, megabytes=2))
    assert cli("--repo", pg_repo, "replicate", "--location", "vault").code == 0
    workers += [Worker(pg_repo, tmp_path / f"r{i}.log", "--concurrency", "2") for i in (1, 2)]
    time.sleep(3)  # both registered
    started = time.monotonic()
    queued = cli("--repo", pg_repo, "--json", "audit", "--enqueue", "--all", "--location",
                 "vault", "--max-rate", "4MB/s")
    assert queued.code == 0, queued.err
    assert len(queued.json()["created"]) >= 2  # several jobs, read side by side
    wait_for(lambda: idle(cli, pg_repo), what="rated audits")
    elapsed = time.monotonic() - started
    assert [w.stop() for w in workers] == [0, 0]
    read = 4 * (2 << 20)  # the scans; the small files add little
    # Four readers without a shared budget would take about a quarter of this.
    assert elapsed >= read / 4e6 - 1.0, elapsed
