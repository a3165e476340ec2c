"""Memory of one `preserve ingest` of the scaling corpus (docs/performance.md, "Memory per
file (scaling target)").

    python -m benchmarks.ingest_memory --scale 0.1 --work /tmp/ingmem     # 20,000 files
    python -m benchmarks.ingest_memory --scale 0.3 --work /tmp/ingmem     # 60,000 files

Generates (or reuses) the `scaling` corpus at that scale under `--work`, ingests it into a
fresh repository with `-v`, samples the command's RSS every 0.2 s and prints one JSON line:
the peak RSS (`os.wait4`), the RSS when each logged phase began, and the seconds taken. The
RSS of the identification helpers is not the ingest's: they are separate processes, and
wait4 only reports the ingest's own peak and that of children it waited for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks import corpus as corpora

#: Log messages (INFO, `-v`) that end a phase of the ingest.
PHASES = {"read ": "read", "identified ": "identified", "committed ": "committed"}


def _rss_mib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def measure(bag: Path, repo: Path, schemas: str | None) -> dict[str, object]:
    preserve = [sys.executable, "-c", "import sys; from preserve.cli import main; sys.exit(main())"]
    env = dict(os.environ)
    if schemas:
        env["PRESERVE_SCHEMAS"] = schemas
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run([*preserve, "--repo", str(repo), "-q", "init"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    process = subprocess.Popen([*preserve, "--repo", str(repo), "-v", "ingest", str(bag),
                                "--id", "bench-scaling"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    samples: list[int] = []

    def sample() -> None:
        while process.poll() is None:
            rss = _rss_mib(process.pid)
            if rss is not None:
                samples.append(rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    phases: dict[str, int] = {}
    assert process.stderr is not None
    for line in process.stderr:  # read as it comes, so the pipe never fills
        for start, phase in PHASES.items():
            if " INFO preserve." in line and line.split(": ", 1)[-1].startswith(start):
                phases[phase] = samples[-1] if samples else 0
    _pid, status, usage = os.wait4(process.pid, 0)
    sampler.join()
    return {"exit": os.waitstatus_to_exitcode(status),
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mib": usage.ru_maxrss // 1024, "rss_at_phase_end_mib": phases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ingest-memory"))
    parser.add_argument("--schemas", default=os.environ.get("PRESERVE_SCHEMAS"))
    args = parser.parse_args()
    corpus = corpora.generate("scaling", args.work / f"scaling-{args.scale:g}",
                              scale=args.scale, seed=1)
    result = measure(corpus.bag, args.work / f"repo-{args.scale:g}", args.schemas)
    print(json.dumps({"files": corpus.files, "bytes": corpus.bytes, **result}))


if __name__ == "__main__":
    main()
