"""Audit of one location by 1, 2 and 4 `preserve worker` processes beside one `preserve
audit` process (issue 14, "Speed and scale").

    .venv/bin/python -m benchmarks.workers_bench [--packages 8] [--files 4] [--mib 4]

Builds a repository on a fresh schema of the PostgreSQL server named by
PRESERVE_TEST_POSTGRES_URL (default: the test server), ingests `packages` packages of
`files` random files of `mib` MiB each, replicates them to a second local disk location
(`vault`), then times, on a warm page cache:

- `preserve audit --all --location vault`: one process, its reading threads (audit.workers);
- `preserve audit --enqueue --all --location vault`, then N `preserve worker --queues audit`
  processes (each `--concurrency 1`) until the queue is empty, N = 1, 2, 4; the time counts
  from the enqueue to the last job's end, worker start-up included.

Prints one JSON line per run: seconds, MB/s (10^6 bytes per second of content re-read).
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


def _idle(home: Path) -> bool:
    return not json.loads(_ok(_cli(home, "--json", "jobs")))["jobs"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=8)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--mib", type=int, default=4)
    options = parser.parse_args()
    url = os.environ.get("PRESERVE_TEST_POSTGRES_URL", DEFAULT_URL)
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp:
            run(Path(tmp), f"{url}?options=-csearch_path%3D{schema}", options)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(tmp: Path, catalog_url: str, options: argparse.Namespace) -> None:
    home = tmp / "repo"
    init = ["init", "--catalog-url", catalog_url]
    if os.environ.get("PRESERVE_SCHEMAS"):
        init += ["--schemas-dir", os.environ["PRESERVE_SCHEMAS"]]
    _ok(_cli(home, *init))
    _ok(_cli(home, "locations", "add", "vault", "--kind", "local", "--path", str(tmp / "vault")))
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
    start = time.monotonic()
    _ok(_cli(home, "audit", "--all", "--location", "vault"))
    seconds = time.monotonic() - start
    print(json.dumps(report | {"run": "one `preserve audit` process", "seconds": round(seconds, 2),
                               "MB/s": round(total / seconds / 1e6, 1)}), flush=True)
    for count in (1, 2, 4):
        start = time.monotonic()
        _ok(_cli(home, "audit", "--enqueue", "--all", "--location", "vault"))
        logs = [open(tmp / f"worker-{count}-{i}.log", "wb") for i in range(count)]
        workers = [subprocess.Popen(
            [sys.executable, "-m", "preserve", "--repo", str(home), "worker", "--queues", "audit",
             "--heartbeat", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            for log in logs]
        while not _idle(home):
            time.sleep(0.2)
        seconds = time.monotonic() - start
        for worker in workers:
            worker.terminate()
        for worker, log in zip(workers, logs, strict=True):
            worker.wait(60)
            log.close()
        print(json.dumps(report | {"run": f"{count} worker process(es)",
                                   "seconds": round(seconds, 2),
                                   "MB/s": round(total / seconds / 1e6, 1)}), flush=True)


if __name__ == "__main__":
    main()
