"""PRONOM identification strategies on the same files (issue 7, item 2).

siegfried (through pygfried) is the largest single cost of ingesting many small files. This
times, on the first `count` files of the many-small corpus (random bytes) and of the
many-small-real corpus (real TIFF, JPEG, PNG, PDF, XML and text; issue 17), page cache warm:

- `pygfried, one call, 1 worker` and `… 2 workers`: one `Scanner.identify_many` call over
  all files, with siegfried's own goroutines;
- `FormatIdentifier(workers=1)`: preserve's batches of 1,000 in this process;
- `FormatIdentifier(workers=2)`: the same list shared between two helper processes;
- `stream, 2 helpers`: each file submitted on its own to two helper processes, as an ingest
  does while it reads (`preserve.formats.stream`).

Each strategy is run once to warm up, then `ROUNDS` times; medians of wall time, of this
process's CPU time and of the CPU time of this process and its helpers together.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchmarks import corpus as corpora

if TYPE_CHECKING:
    from benchmarks.run import Session

ROUNDS = 3


def _cpu_with_children() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    helpers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + helpers.ru_utime + helpers.ru_stime


def run(session: Session, count: int) -> None:
    for shape in ("many-small", "many-small-real"):
        corpus = corpora.generate(shape, session.work / "corpora" / f"{shape}-{session.scale:g}",
                                  scale=session.scale, seed=session.seed)
        names: list[str] = []
        for dirpath, _dirs, files in os.walk(corpus.payload):
            names += [os.path.join(dirpath, f) for f in files]
        _run_strategies(session, shape, sorted(names)[:count])


def _run_strategies(session: Session, shape: str, names: list[str]) -> None:
    import pygfried

    from preserve.formats import FormatIdentifier

    scanner = pygfried.Scanner()
    one, two = FormatIdentifier(workers=1), FormatIdentifier(workers=2)

    def streamed() -> object:
        stream = FormatIdentifier(workers=2).stream(2)
        for name in names:
            stream.submit(name, name)
        return stream.results()

    strategies: list[tuple[str, Callable[[], object]]] = [
        ("pygfried, one call, 1 worker", lambda: scanner.identify_many(names, workers=1)),
        ("pygfried, one call, 2 workers", lambda: scanner.identify_many(names, workers=2)),
        ("FormatIdentifier(workers=1): batches", lambda: one.identify_names(names)),
        ("FormatIdentifier(workers=2): 2 helper processes",
         lambda: two.identify_many(names)),  # type: ignore[arg-type]
        ("stream, 2 helpers, one file at a time", streamed),
    ]
    print(f"identify {shape}: {len(names)} files", file=sys.stderr)
    for round_no in range(ROUNDS + 1):
        for name, call in strategies:
            wall, cpu, total = time.perf_counter(), time.process_time(), _cpu_with_children()
            call()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            total = _cpu_with_children() - total
            if round_no == 0:
                continue
            session.append({"type": "identify", "scale": session.scale, "strategy": name,
                            "corpus": shape, "files": len(names), "round": round_no,
                            "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                            "total_cpu_seconds": round(total, 3)})
            print(f"  [{round_no}] {name:48s} {wall:6.2f} s  {len(names) / wall:6.0f} files/s "
                  f"(this process: {cpu:5.2f} s CPU, with helpers {total:5.2f} s)",
                  file=sys.stderr)


def summarise(records: list[dict]) -> list[dict]:
    """One row per strategy of the newest identify session: median wall and CPU seconds."""
    rows = [r for r in records if r.get("type") == "identify"]
    if not rows:
        return []
    session = rows[-1]["session"]
    by: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if r["session"] == session:
            by.setdefault((r.get("corpus", "many-small"), r["strategy"]), []).append(r)
    return [{"session": session, "corpus": corpus, "strategy": name, "files": rs[0]["files"],
             "seconds": statistics.median(r["seconds"] for r in rs),
             "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
             "total_cpu_seconds": (statistics.median(r["total_cpu_seconds"] for r in rs)
                                   if all("total_cpu_seconds" in r for r in rs) else None)}
            for (corpus, name), rs in by.items()]
