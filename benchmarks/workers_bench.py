"""Audit and replication by 1, 2 and 4 `preserve worker` processes beside one `preserve
audit` / `preserve replicate` process (issue 14, "Speed and scale").

    .venv/bin/python -m benchmarks.workers_bench [--packages 16] [--files 4] [--mib 6]

Builds a repository on a fresh schema of the PostgreSQL server named by
PRESERVE_TEST_POSTGRES_URL (default: the test server), ingests `packages` packages of
`files` random files of `mib` MiB each, replicates them to a second local disk location
(`vault`), then times, on a warm page cache:

- audit: `preserve audit --all --location vault` (one process, its reading threads), then
  `audit --enqueue --all --location vault` drained by N `preserve worker --queues audit`
  processes (each `--concurrency 1`), N = 1, 2, 4;
- replication: `preserve replicate --location r0` (one process) to a new disk location, then
  `replicate --enqueue --location rN` drained by N workers, each run to a new location.

The workers are started and registered before the clock starts; the time runs from the
enqueue command to the queue being empty (polled in the database). Prints one JSON line per
run: seconds, MB/s (10^6 bytes of content per second).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preserve", "--repo", str(home), *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {result.stderr}")
    return result.stdout


def _count(conninfo: str, query: str) -> int:
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(query).fetchone()
        return int(row[0]) if row else 0


def _drain(home: Path, tmp: Path, conninfo: str, count: int, queue: str,
           enqueue: list[str]) -> float:
    """Start `count` workers, wait for them to register, enqueue, wait for an empty queue."""
    before = _count(conninfo, "SELECT count(*) FROM procrastinate_workers")
    logs = [open(tmp / f"worker-{queue}-{count}-{i}.log", "wb") for i in range(count)]
    workers = [subprocess.Popen(
        [sys.executable, "-m", "preserve", "--repo", str(home), "worker", "--queues", queue,
         "--heartbeat", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT) for log in logs]
    while _count(conninfo, "SELECT count(*) FROM procrastinate_workers") < before + count:
        time.sleep(0.1)
    start = time.monotonic()
    _ok(_cli(home, *enqueue))
    while _count(conninfo, "SELECT count(*) FROM procrastinate_jobs "
                           "WHERE status IN ('todo', 'doing')"):
        time.sleep(0.05)
    seconds = time.monotonic() - start
    for worker in workers:
        worker.terminate()
    for worker, log in zip(workers, logs, strict=True):
        worker.wait(60)
        log.close()
    failed = _count(conninfo, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
    if failed:
        raise SystemExit(f"{failed} job(s) failed; see {tmp}/worker-*.log")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=16)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--mib", type=int, default=6)
    options = parser.parse_args()
    url = os.environ.get("PRESERVE_TEST_POSTGRES_URL", DEFAULT_URL)
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp:
            run(Path(tmp), f"{url}?options=-csearch_path%3D{schema}",
                f"{admin}?options=-csearch_path%3D{schema}", options)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(tmp: Path, catalog_url: str, conninfo: str, options: argparse.Namespace) -> None:
    home = tmp / "repo"
    init = ["init", "--catalog-url", catalog_url]
    if os.environ.get("PRESERVE_SCHEMAS"):
        init += ["--schemas-dir", os.environ["PRESERVE_SCHEMAS"]]
    _ok(_cli(home, *init))
    for name in ("vault", "r0", "r1", "r2", "r4"):
        _ok(_cli(home, "locations", "add", name, "--kind", "local", "--path", str(tmp / name)))
    total = 0
    for n in range(options.packages):
        bag = tmp / f"deposit-{n}"
        (bag / "data").mkdir(parents=True)
        for f in range(options.files):
            (bag / "data" / f"scan-{f}.bin").write_bytes(os.urandom(options.mib << 20))
            total += options.mib << 20
        result = _cli(home, "ingest", str(bag), "--id", f"bench-{n}", "--no-replicate")
        if result.returncode not in (0, 1):  # 1: warnings (no XSDs given)
            raise SystemExit(result.stderr)
    _ok(_cli(home, "replicate", "--location", "vault"))
    report = {"packages": options.packages, "bytes": total, "cpus": os.cpu_count()}

    def emit(run: str, seconds: float) -> None:
        print(json.dumps(report | {"run": run, "seconds": round(seconds, 2),
                                   "MB/s": round(total / seconds / 1e6, 1)}), flush=True)

    start = time.monotonic()
    _ok(_cli(home, "audit", "--all", "--location", "vault"))
    emit("audit: one `preserve audit` process", time.monotonic() - start)
    for count in (1, 2, 4):
        emit(f"audit: {count} worker process(es)", _drain(
            home, tmp, conninfo, count, "audit",
            ["audit", "--enqueue", "--all", "--location", "vault"]))
    start = time.monotonic()
    _ok(_cli(home, "replicate", "--location", "r0"))
    emit("replicate: one `preserve replicate` process", time.monotonic() - start)
    for count in (1, 2, 4):
        emit(f"replicate: {count} worker process(es)", _drain(
            home, tmp, conninfo, count, "replicate",
            ["replicate", "--enqueue", "--location", f"r{count}"]))


if __name__ == "__main__":
    main()
