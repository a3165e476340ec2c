"""PRONOM identification strategies on the same files (issue 7, item 2).

siegfried (through pygfried) is the largest single cost of ingesting many small files. This
times, on the first `count` files of the many-small corpus (page cache warm):

- `pygfried, one call, 1 worker` and `… 2 workers`: one `Scanner.identify_many` call over
  all files, with siegfried's own goroutines;
- `FormatIdentifier(workers=1)`: preserve's batches of 1,000 in this process;
- `FormatIdentifier(workers=2)`: the same list shared between two helper processes.

Each strategy is run once to warm up, then `ROUNDS` times; medians of wall time and of this
process's CPU time are recorded (a helper's CPU is not in the latter).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchmarks import corpus as corpora

if TYPE_CHECKING:
    from benchmarks.run import Session

ROUNDS = 3


def run(session: Session, count: int) -> None:
    import pygfried

    from preserve.formats import FormatIdentifier

    corpus = corpora.generate("many-small",
                              session.work / "corpora" / f"many-small-{session.scale:g}",
                              scale=session.scale, seed=session.seed)
    names: list[str] = []
    for dirpath, _dirs, files in os.walk(corpus.payload):
        names += [os.path.join(dirpath, f) for f in files]
    names = sorted(names)[:count]
    scanner = pygfried.Scanner()
    one, two = FormatIdentifier(workers=1), FormatIdentifier(workers=2)
    strategies: list[tuple[str, Callable[[], object]]] = [
        ("pygfried, one call, 1 worker", lambda: scanner.identify_many(names, workers=1)),
        ("pygfried, one call, 2 workers", lambda: scanner.identify_many(names, workers=2)),
        ("FormatIdentifier(workers=1): batches", lambda: one.identify_names(names)),
        ("FormatIdentifier(workers=2): 2 helper processes",
         lambda: two.identify_many(names)),  # type: ignore[arg-type]
    ]
    print(f"identify: {len(names)} files", file=sys.stderr)
    for round_no in range(ROUNDS + 1):
        for name, call in strategies:
            wall, cpu = time.perf_counter(), time.process_time()
            call()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if round_no == 0:
                continue
            session.append({"type": "identify", "scale": session.scale, "strategy": name,
                            "files": len(names), "round": round_no,
                            "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)})
            print(f"  [{round_no}] {name:48s} {wall:6.2f} s  {len(names) / wall:6.0f} files/s "
                  f"(this process: {cpu:5.2f} s CPU)", file=sys.stderr)


def summarise(records: list[dict]) -> list[dict]:
    """One row per strategy of the newest identify session: median wall and CPU seconds."""
    rows = [r for r in records if r.get("type") == "identify"]
    if not rows:
        return []
    session = rows[-1]["session"]
    by: dict[str, list[dict]] = {}
    for r in rows:
        if r["session"] == session:
            by.setdefault(r["strategy"], []).append(r)
    return [{"session": session, "strategy": name, "files": rs[0]["files"],
             "seconds": statistics.median(r["seconds"] for r in rs),
             "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs)}
            for name, rs in by.items()]
