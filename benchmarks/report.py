"""docs/performance.md from benchmarks/results.jsonl (written by benchmarks/run.py).

For each shape the newest session that measured it at the wanted scale is shown, so every
ratio in a table compares figures of one run. Medians are over the measured (non-warm-up)
runs; peak RSS is the largest of them. `benchmarks/analysis.md` (the profile and what it
explains, written by hand) is included at the end.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ANALYSIS = Path(__file__).with_name("analysis.md")
SHAPE_ORDER = ("many-small", "many-small-real", "images", "large")
PRESERVE_TOOLS = ("preserve validate", "preserve ingest", "preserve ingest --move",
                  "preserve audit --all", "preserve export", "preserve export --format zip")
#: Scaling (issue 17): the 200,000-file ingest's peak RSS under this, and at most this many
#: times the 20,000-file ingest's.
SCALING_RSS_MIB = 512
SCALING_RSS_GROWTH = 1.2
YARDSTICKS = ("bagit validate", "bagit create", "ocfl-py create", "floor copy+hash",
              "floor hash", "sha256sum", "sha256sum -P2", "cp -r + sync")
#: (what, shapes, preserve tool, yardstick, least ratio of yardstick time to preserve time):
#: issue 17's table, and issue 7's ingest floor for large files.
TARGETS = (
    ("ingest ≥ 3 × ocfl-py create (files/s)", ("many-small",), "preserve ingest",
     "ocfl-py create", 3.0),
    ("ingest ≥ 0.5 × floor copy+hash", ("many-small",), "preserve ingest", "floor copy+hash",
     0.5),
    ("ingest ≥ 0.6 × floor copy+hash", ("many-small-real",), "preserve ingest",
     "floor copy+hash", 0.6),
    ("ingest ≥ 0.8 × floor copy+hash", ("images", "large"), "preserve ingest",
     "floor copy+hash", 0.8),
    ("ingest --move ≥ 1 × bagit create (in place)", ("images", "large"),
     "preserve ingest --move", "bagit create", 1.0),
    ("audit --all ≥ 0.9 × floor hash (2 threads)", ("images", "large"), "preserve audit --all",
     "floor hash", 0.9),
    ("audit --all ≥ 1.5 × bagit validate", ("many-small",), "preserve audit --all",
     "bagit validate", 1.5),
    ("validate ≥ 1 × bagit validate", SHAPE_ORDER, "preserve validate", "bagit validate", 1.0),
    ("export zip ≥ 0.8 × floor copy+hash", ("images", "large"),
     "preserve export --format zip", "floor copy+hash", 0.8),
    ("export zip ≥ 0.5 × floor copy+hash", ("many-small",), "preserve export --format zip",
     "floor copy+hash", 0.5),
    ("export (bag directory) ≥ 0.8 × floor copy+hash", ("images", "large"), "preserve export",
     "floor copy+hash", 0.8),
    ("export (bag directory) ≥ 0.5 × floor copy+hash", ("many-small",), "preserve export",
     "floor copy+hash", 0.5),
)


@dataclass(frozen=True, slots=True)
class Figure:
    tool: str
    median: float | None  # seconds; None when a run failed or nothing was measured
    runs: tuple[float, ...]
    rss_kib: int
    files: int
    bytes: int
    failed: str = ""

    @property
    def mbps(self) -> float | None:
        return self.bytes / 1e6 / self.median if self.median else None

    @property
    def fps(self) -> float | None:
        return self.files / self.median if self.median else None


def load(results: Path) -> list[dict]:
    if not results.is_file():
        return []
    return [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _figures(records: list[dict], session: str, shape: str) -> dict[str, Figure]:
    by_tool: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if r.get("type") == "measure" and r["session"] == session and r["shape"] == shape:
            by_tool[r["tool"]].append(r)
    figures = {}
    for tool, rows in by_tool.items():
        counted = [r for r in rows if not r["warmup"]]
        failed = [r for r in rows if not r["ok"]]
        times = tuple(r["seconds"] for r in counted)
        figures[tool] = Figure(
            tool=tool,
            median=statistics.median(times) if times and not failed else None,
            runs=times, rss_kib=max((r["max_rss_kib"] for r in counted), default=0),
            files=rows[0]["files"], bytes=rows[0]["bytes"],
            failed=f"exit {failed[0]['exit']}" if failed else "")
    return figures


def _latest(records: list[dict], kind: str, scale: float, **match: str) -> dict | None:
    found = [r for r in records if r.get("type") == kind and r.get("scale") == scale
             and all(r.get(k) == v for k, v in match.items())]
    return found[-1] if found else None


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(preserve: Figure | None, yardstick: Figure | None) -> float | None:
    if preserve is None or yardstick is None or not preserve.median or not yardstick.median:
        return None
    return yardstick.median / preserve.median


def _shape_section(shape: str, head: dict, session: dict | None,
                   figures: dict[str, Figure], unavailable: list[str]) -> list[str]:
    lines = [f"## {shape}: {head['files']:,} files, {head['bytes'] / 1e6:,.0f} MB", ""]
    when = head.get("started", "")
    lines += [f"Session `{head['session']}`, {when}, {head['warmup']} warm-up + {head['runs']} "
              f"measured runs; command `{session['command'] if session else '?'}`.", ""]
    lines += ["| command | median s | MB/s | files/s | peak RSS MiB | runs (s) |",
              "| --- | ---: | ---: | ---: | ---: | --- |"]
    for tool in (*PRESERVE_TOOLS, *YARDSTICKS):
        f = figures.get(tool)
        if f is None:
            if tool in unavailable:
                lines.append(f"| `{tool}` | not available | | | | |")
            continue
        if f.failed:
            lines.append(f"| `{tool}` | failed ({f.failed}) | | | | |")
            continue
        lines.append(f"| `{tool}` | {_num(f.median, 2)} | {_num(f.mbps)} | {_num(f.fps, 0)} | "
                     f"{f.rss_kib / 1024:,.0f} | {', '.join(f'{t:.2f}' for t in f.runs)} |")
    present = [t for t in PRESERVE_TOOLS if t in figures]
    yards = [t for t in YARDSTICKS if t in figures]
    if present and yards:
        lines += ["", "Ratios: yardstick time ÷ `preserve` time (above 1: `preserve` is faster).",
                  "", "| | " + " | ".join(f"`{y}`" for y in yards) + " |",
                  "| --- |" + " ---: |" * len(yards)]
        for p in present:
            cells = [_num(_ratio(figures[p], figures[y]), 2) for y in yards]
            lines.append(f"| `{p}` | " + " | ".join(cells) + " |")
    return lines + [""]


def write(results: Path, out: Path, *, scale: float) -> None:
    """Rewrite `out` from every record in `results` at `scale`."""
    records = load(results)
    sessions = {r["session"]: r for r in records if r.get("type") == "session"}
    body: list[str] = []
    figures_by_shape: dict[str, dict[str, Figure]] = {}
    used_sessions: list[str] = []
    for shape in SHAPE_ORDER:
        head = _latest(records, "shape", scale, shape=shape)
        if head is None:
            continue
        figures = _figures(records, head["session"], shape)
        figures_by_shape[shape] = figures
        unavailable = [r["tool"] for r in records if r.get("type") == "unavailable"
                       and r["session"] == head["session"] and r["shape"] == shape]
        body += _shape_section(shape, head, sessions.get(head["session"]), figures, unavailable)
        used_sessions.append(head["session"])
    body += _targets(figures_by_shape)
    body += _identify(records, scale, used_sessions)
    body += _s3(records, scale, used_sessions)
    body += _scaling(records, scale, used_sessions)
    body += _memory_guard(records, scale, used_sessions)
    body += _due_copies(records, scale, used_sessions)

    lines = ["# Performance", "",
             "<!-- Written by benchmarks/run.py from benchmarks/results.jsonl; edit "
             "benchmarks/analysis.md or the harness, not this file. -->", "",
             "`make bench` runs the full benchmark (34 minutes on this machine); "
             "`make bench-quick` a tenth of it. See `benchmarks/run.py` for the method: "
             "every command is a subprocess timed start to exit, with a warm page cache, "
             "alternating `preserve` with the yardsticks in each round; medians of the "
             "measured rounds; peak RSS from `wait4` (the largest single process of the "
             "command, its helper processes included), the largest of the measured rounds. "
             "MB are 10^6 bytes. The `floor` rows are `benchmarks/floor.py`: plain Python, "
             "2 threads, sha256+sha512 in one read; `floor copy+hash` also writes the copy "
             "and syncs once, as an ingest does.", ""]
    lines += _machine(sessions, used_sessions)
    lines += body
    if ANALYSIS.is_file():
        lines += [ANALYSIS.read_text(encoding="utf-8").rstrip(), ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")


def _machine(sessions: dict[str, dict], used: list[str]) -> list[str]:
    if not used:
        return ["No measurements at this scale yet.", ""]
    ordered = list(dict.fromkeys(used))
    session = sessions.get(ordered[-1], {})
    machine = session.get("machine", {})
    lines = ["## Machine and commands", "", "| | |", "| --- | --- |"]
    for key, value in machine.items():
        lines.append(f"| {key} | {value} |")
    lines.append(f"| METS schema validation at ingest | "
                 f"{'yes, ' + session['schemas'] if session.get('schemas') else 'no'} |")
    lines += ["", "Sessions shown:", ""]
    for sid in ordered:
        s = sessions.get(sid, {})
        lines.append(f"- `{sid}` {s.get('started', '')}: `{s.get('command', '?')}`")
    return lines + [""]


def _targets(figures_by_shape: dict[str, dict[str, Figure]]) -> list[str]:
    if not figures_by_shape:
        return []
    lines = ["## Targets", "",
             "Ratio = yardstick median time ÷ `preserve` median time, same session.", "",
             "| target | shape | ratio | needed | met |", "| --- | --- | ---: | ---: | --- |"]
    for what, shapes, tool, yardstick, least in TARGETS:
        for shape in shapes:
            figures = figures_by_shape.get(shape)
            if figures is None:
                continue
            ratio = _ratio(figures.get(tool), figures.get(yardstick))
            met = "–" if ratio is None else ("yes" if ratio >= least else "**no**")
            lines.append(f"| {what} | {shape} | {_num(ratio, 2)} | {least:g} | {met} |")
    return lines + [""]


def _identify(records: list[dict], scale: float, used: list[str]) -> list[str]:
    from benchmarks import identify_bench

    rows = identify_bench.summarise([r for r in records if r.get("scale") == scale])
    if not rows:
        return []
    used.append(rows[0]["session"])
    lines = [f"## PRONOM identification: {rows[0]['files']:,} files of each small-file corpus",
             "", f"Session `{rows[0]['session']}`, medians of {identify_bench.ROUNDS} rounds "
             "after a warm-up (see `benchmarks/identify_bench.py`). CPU with helpers: this "
             "process and the helper processes it waited for.", "",
             "| corpus | strategy | seconds | files/s | CPU s in this process | CPU s with "
             "helpers | CPU ms per file |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        total = r["total_cpu_seconds"]
        lines.append(f"| {r['corpus']} | {r['strategy']} | {r['seconds']:.2f} | "
                     f"{r['files'] / r['seconds']:,.0f} | {r['cpu_seconds']:.2f} | "
                     f"{_num(total, 2)} | "
                     f"{_num(total * 1000 / r['files'] if total is not None else None, 2)} |")
    return lines + [""]


def _s3(records: list[dict], scale: float, used: list[str]) -> list[str]:
    from benchmarks import s3_bench

    rows = s3_bench.summarise([r for r in records if r.get("scale") == scale])
    if not rows:
        return []
    used.append(rows[0]["session"])
    lines = ["## S3: replication to the local Swift and reading it back", "",
             f"Session `{rows[0]['session']}`, in-process, {s3_bench.WORKERS} requests in "
             "flight, medians of the measured rounds (see `benchmarks/s3_bench.py`). Ratio = "
             "yardstick seconds / preserve seconds; target ≥ 0.8 for both.", "",
             "| corpus | what | preserve | s | yardstick | s | MB/s (preserve) | ratio |",
             "| --- | --- | --- | ---: | --- | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['shape']} ({r['files']:,} files, {r['bytes'] / 1e6:,.0f} MB) | "
                     f"{r['what']} | {r['ours']} | {r['ours_seconds']:.2f} | {r['yardstick']} "
                     f"| {r['yardstick_seconds']:.2f} | {r['bytes'] / 1e6 / r['ours_seconds']:.1f}"
                     f" | {r['ratio']:.2f} |")
    return lines + [""]


def _scaling(records: list[dict], scale: float, used: list[str]) -> list[str]:
    head = _latest(records, "shape", scale, shape="scaling")
    small = _latest(records, "shape", scale, shape="many-small")
    if head is None:
        return []
    big = _figures(records, head["session"], "scaling")
    base = _figures(records, small["session"], "many-small") if small else {}
    used.append(head["session"])
    lines = [f"## Scaling: {head['files']:,} files, {head['bytes'] / 1e6:,.0f} MB", "",
             f"Session `{head['session']}`, {head.get('started', '')}, one run; the small "
             f"figure is the median of the many-small table above. Targets: time per file within "
             f"1.2 × the {base_files(small)} figure; the ingest's peak RSS under "
             f"{SCALING_RSS_MIB} MiB and at most {SCALING_RSS_GROWTH:g} × the "
             f"{base_files(small)} ingest's (issue 17).", "",
             "| command | seconds | ms per file | ms per file at "
             f"{base_files(small)} | ratio | ratio ≤ 1.2 | peak RSS MiB | at "
             f"{base_files(small)} | RSS target met |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |"]
    for tool in ("preserve ingest", "preserve audit --all"):
        f, b = big.get(tool), base.get(tool)
        if f is None or not f.median:
            lines.append(f"| `{tool}` | {'failed ' + f.failed if f else 'not run'} | | | | | | |")
            continue
        per = f.median / f.files * 1000
        per_base = b.median / b.files * 1000 if b and b.median else None
        ratio = per / per_base if per_base else None
        ratio_ok = "–" if ratio is None else ("yes" if ratio <= 1.2 else "**no**")
        rss, rss_base = f.rss_kib / 1024, (b.rss_kib / 1024 if b else None)
        if tool == "preserve ingest":
            met = rss < SCALING_RSS_MIB and (rss_base is not None
                                             and rss <= SCALING_RSS_GROWTH * rss_base)
            rss_ok = "yes" if met else "**no**"
        else:
            rss_ok = "(no target)"
        lines.append(f"| `{tool}` | {f.median:,.1f} | {per:.3f} | {_num(per_base, 3)} | "
                     f"{_num(ratio, 2)} | {ratio_ok} | {rss:,.0f} | {_num(rss_base, 0)} | "
                     f"{rss_ok} |")
    return lines + [""]


def _memory_guard(records: list[dict], scale: float, used: list[str]) -> list[str]:
    from benchmarks import memory_guard

    r = memory_guard.summarise([r for r in records if r.get("scale") == scale])
    if r is None:
        return []
    used.append(r["session"])
    lines = [f"## Memory guard: one file of {r['bytes'] / 2**30:,.1f} GiB under a "
             f"{r['limit_bytes'] / 2**30:g} GiB memory limit", "",
             f"Session `{r['session']}`, {r.get('started', '')}: `preserve ingest` in a memory "
             "cgroup of its own (see `benchmarks/memory_guard.py`). A guard: it must "
             "complete.", ""]
    if not r.get("ran"):
        return lines + [f"Not run: {r.get('reason', '?')}.", ""]
    lines += ["| completed | exit | seconds | MB/s | cgroup peak MiB (page cache included) | "
              "peak RSS MiB | limit hit | OOM kills |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
              f"| {'yes' if r['completed'] else '**no**'} | {r['exit']} | {r['seconds']:,.1f} | "
              f"{r['bytes'] / 1e6 / r['seconds']:,.0f} | {r['peak_bytes'] / 2**20:,.0f} | "
              f"{r['max_rss_kib'] / 1024:,.0f} | {r['limit_hits']:,} | {r['oom_kills']} |"]
    return lines + [""]


def base_files(small: dict | None) -> str:
    return f"{small['files']:,}-file" if small else "(no many-small run)"


def _due_copies(records: list[dict], scale: float, used: list[str]) -> list[str]:
    rows = [r for r in records if r.get("type") == "due-copies" and r.get("scale") == scale]
    if not rows:
        return []
    session = rows[-1]["session"]
    used.append(session)
    rows = [r for r in rows if r["session"] == session]
    lines = [f"## Due copies: {rows[0]['copies']:,} copies", "",
             f"Session `{session}`: `Catalog.due_copies` (one audit batch of {rows[0]['limit']:,} "
             "copies) in a fresh catalog; see `benchmarks/catalog_bench.py` for the "
             "situations. Target: under 100 ms.", "",
             "| backend | situation | median ms | rows | under 100 ms | samples ms | fill s |",
             "| --- | --- | ---: | ---: | --- | --- | ---: |"]
    for r in rows:
        ok = "yes" if r["median_ms"] < 100 else "**no**"
        lines.append(f"| {r['backend']} | {r['situation']} | {r['median_ms']:,.1f} | "
                     f"{r['rows']:,} | {ok} | {', '.join(f'{s:.1f}' for s in r['samples_ms'])} "
                     f"| {r['fill_seconds']} |")
    plans = [r for r in rows if r.get("plans") and r["situation"] in ("nightly", "one check time")]
    if plans:
        lines += ["", "Query plans of the ordered statement (checked before the cutoff, oldest "
                  "first), as the database reports them:", ""]
        for r in plans:
            lines += [f"- {r['backend']}, {r['situation']}:", "", "  ```"]
            lines += [f"  {line}" for line in r["plans"][-1].splitlines()]
            lines += ["  ```", ""]
    return lines + [""]
