"""A guard, not a race: one 8 GiB file ingested under a 1 GiB memory limit (issue 17).

`preserve ingest` must complete whatever the size of one file: it reads in blocks, and
siegfried maps the file (its pages are the kernel's page cache, reclaimable, though `ru_maxrss`
counts them). The ingest runs in a memory cgroup of its own with a hard limit, so the kernel
enforces the limit as it would on a small server: cgroup v1 `memory.limit_in_bytes` (these
machines), or cgroup v2 `memory.max`. Recorded: whether it completed, its time, the
cgroup's peak usage (page cache included: v1 `memory.max_usage_in_bytes`, v2 `memory.peak`),
the process's peak RSS, and how often the limit was hit or the OOM killer ran.

    python -m benchmarks.run --shapes memory-guard          # 8 GiB, 1 GiB limit
    python -m benchmarks.run --shapes memory-guard --scale 0.1   # 819 MiB, same limit

Needs the right to make a cgroup (root here); otherwise the case is recorded as not run,
with the reason.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks import corpus as corpora

LIMIT = 1 << 30
V1_ROOT = Path("/sys/fs/cgroup/memory")
V2_ROOT = Path("/sys/fs/cgroup")


class Cgroup:
    """A memory cgroup made for one command, v1 or v2, removed afterwards."""

    def __init__(self, limit: int) -> None:
        name = f"preserve-bench-{uuid.uuid4().hex[:8]}"
        if (V1_ROOT / "memory.limit_in_bytes").is_file():
            self.version, self.path = 1, V1_ROOT / name
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
        elif (V2_ROOT / "cgroup.controllers").is_file():
            if "memory" not in (V2_ROOT / "cgroup.controllers").read_text().split():
                raise OSError("cgroup v2 without the memory controller")
            self.version, self.path = 2, V2_ROOT / name
            self.path.mkdir()
            (self.path / "memory.max").write_text(str(limit))
            (self.path / "memory.swap.max").write_text("0")
        else:
            raise OSError("no memory cgroup hierarchy under /sys/fs/cgroup")

    def enter(self) -> None:
        """In the child, before exec: join the cgroup."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def figures(self) -> dict:
        def read(name: str) -> str:
            try:
                return (self.path / name).read_text()
            except OSError:
                return ""

        if self.version == 1:
            oom = dict(line.split() for line in read("memory.oom_control").splitlines()
                       if len(line.split()) == 2)
            return {"cgroup": "v1", "peak_bytes": int(read("memory.max_usage_in_bytes") or 0),
                    "limit_hits": int(read("memory.failcnt") or 0),
                    "oom_kills": int(oom.get("oom_kill", 0))}
        events = dict(line.split() for line in read("memory.events").splitlines())
        return {"cgroup": "v2", "peak_bytes": int(read("memory.peak") or 0),
                "limit_hits": int(events.get("max", 0)),
                "oom_kills": int(events.get("oom_kill", 0))}

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:  # a process still in it: left for the operator, named in the log
            print(f"could not remove {self.path}", file=sys.stderr)


def run(session) -> None:  # noqa: ANN001 - benchmarks.run.Session (no import cycle)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    corpus = corpora.generate("memory-guard",
                              session.work / "corpora" / f"memory-guard-{session.scale:g}",
                              scale=session.scale, seed=session.seed)
    print(f"memory-guard: {corpus.bytes / 2**30:.1f} GiB in one file, limit "
          f"{LIMIT / 2**30:.0f} GiB", file=sys.stderr)
    record = {"type": "memory-guard", "scale": session.scale, "files": corpus.files,
              "bytes": corpus.bytes, "limit_bytes": LIMIT, "started": started}
    repo = session.work / "scratch" / "memory-guard-repo"
    preserve = str(Path(sys.executable).parent / "preserve")
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    init = [preserve, "--repo", str(repo), "-q", "init"]
    if session.schemas is not None:
        init += ["--schemas-dir", str(session.schemas)]
    subprocess.run(init, check=True, stdout=subprocess.DEVNULL)
    try:
        group = Cgroup(LIMIT)
    except OSError as exc:
        session.append({**record, "ran": False, "reason": f"no memory cgroup: {exc}"})
        print(f"memory-guard: not run ({exc})", file=sys.stderr)
        return
    argv = [preserve, "--repo", str(repo), "-q", "ingest", str(corpus.bag), "--id",
            "bench-memory-guard"]
    try:
        os.sync()  # the corpus just written is not charged to the ingest's cgroup
        with session.log.open("ab") as err:
            err.write(f"\n$ (cgroup, {LIMIT} bytes) {' '.join(argv)}\n".encode())
            err.flush()
            begin = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, preexec_fn=group.enter)
            _pid, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - begin
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        figures = group.figures()
    finally:
        group.remove()
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    done = {**record, **figures, "ran": True, "seconds": round(seconds, 2), "exit": code,
            "completed": code in (0, 1), "max_rss_kib": usage.ru_maxrss}
    session.append(done)
    print(f"memory-guard: exit {code} in {seconds:.1f} s, cgroup peak "
          f"{figures['peak_bytes'] / 2**20:.0f} MiB, RSS {usage.ru_maxrss / 1024:.0f} MiB, "
          f"limit hit {figures['limit_hits']} times, OOM kills {figures['oom_kills']}",
          file=sys.stderr)


def summarise(records: list[dict]) -> dict | None:
    """The newest memory-guard record."""
    rows = [r for r in records if r.get("type") == "memory-guard"]
    return rows[-1] if rows else None
