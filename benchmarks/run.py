"""The benchmark harness (issue 7): `preserve` against its yardsticks, in one run, alternating.

For each corpus shape (benchmarks/corpus.py) every tool runs once per round, in a fixed order
that alternates `preserve` commands with yardsticks, so slow drift of the machine (another
process, page cache, thermal state) falls on all of them alike. The first `--warmup` rounds
are not counted; the table shows medians of the others. Each command is a subprocess timed
from start to exit; its peak RSS comes from `os.wait4` (the maximum over the process and the
children it waited for, so `xargs`/`sh` pipelines count their workers).

The results are appended to `--results` as JSON lines (one per measurement, plus one per
session and per shape) and `--out` (docs/performance.md) is rewritten from them: for each
shape, the newest session that measured it at this scale. Outputs of every command are
deleted right after it; the corpora stay in `--work` for the next run (`--clean` drops them).

    python -m benchmarks.run                      # the full run: 3 shapes, 1 warm-up + 3 runs
    python -m benchmarks.run --quick              # scale 0.1, 1 warm-up + 2 runs (a laptop)
    python -m benchmarks.run --shapes identify,scaling,due-copies
    python -m benchmarks.run --quick --shapes s3     # replication to the local Swift (S3)
    python -m benchmarks.run --shapes memory-guard   # one 8 GiB file under a 1 GiB cgroup
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import corpus as corpora
from benchmarks import report

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MAIN_SHAPES = ("many-small", "many-small-real", "images", "large")
#: `--shapes all` (`make bench`); replication to S3 is its own run (`--shapes s3`, `make
#: bench-s3`): at full scale it alone would take longer than all of these.
FULL_RUN = (*MAIN_SHAPES, "identify", "scaling", "memory-guard", "due-copies")
ALL_SHAPES = (*FULL_RUN, "s3")
#: Shapes where `preserve ingest --move` is measured against bagit-python making a bag in
#: place (issue 17): the deposit is copied afresh, untimed, before each run.
MOVE_SHAPES = ("images", "large")
#: Exit codes that mean "done": preserve's 1 is "finished with warnings".
OK_EXIT = {"preserve": (0, 1), "yardstick": (0,)}


@dataclass
class Measure:
    tool: str
    kind: str  # "preserve" or "yardstick"
    argv: list[str]
    prepare: Callable[[], None] = lambda: None
    cleanup: Callable[[], None] = lambda: None
    shell: bool = False
    needs: str | None = None  # a tool whose success this one depends on (audit needs ingest)


@dataclass
class Session:
    id: str
    command: str
    results: Path
    work: Path
    scale: float
    seed: int
    schemas: Path | None
    log: Path
    machine: dict = field(default_factory=dict)

    def append(self, record: dict) -> None:
        record = {"session": self.id, **record}
        with self.results.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def _rm(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _copy_tree(src: Path, dst: Path) -> None:
    """A copy of `src` that bagit may rearrange in place (not hard links: `preserve` rejects a
    deposit whose files have names outside it, PAY-E005, and the corpus is one)."""
    subprocess.run(["cp", "-r", os.fspath(src), os.fspath(dst)], check=True)


def _unbag(path: Path) -> None:
    """Undo `bagit.py` in place: tag files away, `data/*` back up to the top."""
    if not (path / "data").is_dir():  # bagit failed before moving anything: nothing to undo
        return
    side = path.with_name(path.name + ".payload")
    os.rename(path / "data", side)
    shutil.rmtree(path)
    os.rename(side, path)


def timed(argv: list[str], *, shell: bool, log: Path, env: dict[str, str] | None = None
          ) -> tuple[float, int, int]:
    """Run one command: (seconds, peak RSS in KiB, exit status)."""
    with log.open("ab") as err:
        err.write(f"\n$ {argv[0] if shell else shlex.join(argv)}\n".encode())
        err.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(argv[0] if shell else argv, shell=shell, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    return seconds, usage.ru_maxrss, proc.returncode


def preserve_has_export() -> bool:
    done = subprocess.run([str(BIN / "preserve"), "export", "--help"], capture_output=True)
    return done.returncode == 0


class ShapeBench:
    """The tools of one shape, with their scratch paths under `work/<shape>/`."""

    def __init__(self, session: Session, corpus: corpora.Corpus, scratch: Path) -> None:
        self.s = session
        self.c = corpus
        self.w = scratch
        self.w.mkdir(parents=True, exist_ok=True)
        self.repo = self.w / "repo"
        self.package = f"bench-{corpus.shape}"
        self.preserve = str(BIN / "preserve")

    def _init_repo(self, repo: Path) -> None:
        _rm(repo)
        argv = [self.preserve, "--repo", str(repo), "-q", "init"]
        if self.s.schemas is not None:
            argv += ["--schemas-dir", str(self.s.schemas)]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def _files_list(self) -> Path:
        listing = self.w / "files.list"
        names = []
        for dirpath, _d, filenames in os.walk(self.c.payload):
            names += [os.path.join(dirpath, f) for f in filenames]
        listing.write_bytes(b"".join(os.fsencode(n) + b"\0" for n in sorted(names)))
        return listing

    def tools(self, *, export: bool, only: tuple[str, ...] | None = None) -> list[Measure]:
        bag, data, w, q = str(self.c.bag), str(self.c.payload), self.w, shlex.quote
        plain = w / "plain"
        listing = self._files_list()
        per_call = max(1, self.c.files // 32)
        validate_repo = w / "validate-repo"

        def ensure_plain() -> None:  # untimed, first round only
            if not plain.exists():
                _copy_tree(self.c.payload, plain)

        def ensure_validate_repo() -> None:
            if not validate_repo.exists():
                self._init_repo(validate_repo)

        py = str(BIN / "python")
        env_path = str(REPO_ROOT)
        floor = [py, "-m", "benchmarks.floor"]
        measures = [
            Measure("preserve validate", "preserve",
                    [self.preserve, "--repo", str(validate_repo), "-q", "validate", bag],
                    prepare=ensure_validate_repo),
            Measure("bagit validate", "yardstick",
                    [str(BIN / "bagit.py"), "--validate", "--processes", "2", "--quiet", bag]),
            Measure("preserve ingest", "preserve",
                    [self.preserve, "--repo", str(self.repo), "-q", "ingest", bag,
                     "--id", self.package],
                    prepare=lambda: self._init_repo(self.repo)),
            Measure("floor copy+hash", "yardstick",
                    [*floor, "copy", data, str(w / "floor-copy"), "--threads", "2",
                     "--algorithms", "sha256,sha512"],
                    cleanup=lambda: _rm(w / "floor-copy")),
            Measure("bagit create", "yardstick",
                    [str(BIN / "bagit.py"), "--processes", "2", "--sha256", "--sha512",
                     "--quiet", str(plain)],
                    prepare=ensure_plain, cleanup=lambda: _unbag(plain)),
            Measure("ocfl-py create", "yardstick",
                    [str(BIN / "ocfl-object.py"), "create", "--srcdir", data, "--objdir",
                     str(w / "ocfl-object"), "--id", self.package, "--digest", "sha512", "-q"],
                    cleanup=lambda: _rm(w / "ocfl-object")),
            Measure("preserve audit --all", "preserve",
                    [self.preserve, "--repo", str(self.repo), "-q", "audit", "--all"],
                    needs="preserve ingest"),
            Measure("floor hash", "yardstick",
                    [*floor, "hash", data, "--threads", "2", "--algorithms", "sha256,sha512"]),
            Measure("sha256sum", "yardstick",
                    [f"xargs -0 -a {q(str(listing))} sha256sum > /dev/null"], shell=True),
            Measure("sha256sum -P2", "yardstick",
                    [f"xargs -0 -a {q(str(listing))} -P2 -n {per_call} sha256sum > /dev/null"],
                    shell=True),
            Measure("cp -r + sync", "yardstick",
                    [f"cp -r {q(data)} {q(str(w / 'cp-copy'))} && sync"], shell=True,
                    cleanup=lambda: _rm(w / "cp-copy")),
        ]
        if self.c.shape in MOVE_SHAPES:
            move_bag, move_repo = w / "move-bag", w / "move-repo"

            def fresh_deposit() -> None:  # untimed: --move consumes the deposit
                _rm(move_bag)
                _copy_tree(self.c.bag, move_bag)
                self._init_repo(move_repo)

            def drop_move() -> None:
                _rm(move_bag)
                _rm(move_repo)

            measures.insert(5, Measure(
                "preserve ingest --move", "preserve",
                [self.preserve, "--repo", str(move_repo), "-q", "ingest", "--move",
                 str(move_bag), "--id", self.package],
                prepare=fresh_deposit, cleanup=drop_move))
        if export:
            measures.append(Measure(
                "preserve export", "preserve",
                [self.preserve, "--repo", str(self.repo), "-q", "export", self.package,
                 str(w / "export")],
                prepare=lambda: _rm(w / "export"), cleanup=lambda: _rm(w / "export"),
                needs="preserve ingest"))
        # `python -m benchmarks.floor` must import this package wherever we were started.
        self._env = dict(os.environ, PYTHONPATH=env_path)
        if only is not None:
            measures = [m for m in measures if m.tool in only]
        return measures

    def run(self, measures: list[Measure], rounds: int, warmup: int) -> None:
        for round_no in range(rounds):
            ok: set[str] = set()
            for m in measures:
                if m.needs is not None and m.needs not in ok:
                    continue
                m.prepare()
                os.sync()  # nothing dirty left by the previous command is charged to this one
                seconds, rss, code = timed(m.argv, shell=m.shell, log=self.s.log, env=self._env)
                passed = code in OK_EXIT[m.kind]
                if passed:
                    ok.add(m.tool)
                else:
                    print(f"  {m.tool}: exit {code} (see {self.s.log})", file=sys.stderr)
                self.s.append({
                    "type": "measure", "shape": self.c.shape, "scale": self.c.scale,
                    "tool": m.tool, "kind": m.kind, "round": round_no,
                    "warmup": round_no < warmup, "seconds": round(seconds, 4),
                    "max_rss_kib": rss, "exit": code, "ok": passed,
                    "files": self.c.files, "bytes": self.c.bytes,
                    "argv": m.argv[0] if m.shell else shlex.join(m.argv)})
                print(f"  [{round_no}{'w' if round_no < warmup else ''}] {m.tool:22s} "
                      f"{seconds:8.2f} s  {rss / 1024:7.0f} MiB  exit {code}", file=sys.stderr)
                m.cleanup()
            _rm(self.repo)


def machine_facts(work: Path) -> dict:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"

    disk = shutil.disk_usage(work)
    commit = out(["git", "rev-parse", "--short", "HEAD"])
    if out(["git", "status", "--porcelain", "--", "preserve"]):
        commit += ", with uncommitted changes in preserve/"
    return {
        "nproc": os.cpu_count(),
        "cpu": first("/proc/cpuinfo", "model name"),
        "memory": _gib(first("/proc/meminfo", "MemTotal")),
        "SHA instructions (sha_ni)": "yes" if " sha_ni" in first("/proc/cpuinfo", "flags")
                                     else "no",
        "disk": (f"{out(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--target', str(work)])}, "
                 f"{disk.total / 1e9:.0f} GB, {disk.free / 1e9:.0f} GB free"),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "preserve": f"{version('preserve')} (git {commit})",
        "bagit": version("bagit"),
        "ocfl-py": version("ocfl-py"),
        "pygfried": version("pygfried"),
        "coreutils": out(["sha256sum", "--version"]).splitlines()[0] if shutil.which(
            "sha256sum") else "not installed",
    }


def _gib(meminfo: str) -> str:
    """'24683656 kB' -> '23.5 GiB'."""
    number = meminfo.split()[0] if meminfo.split() else ""
    return f"{int(number) / 1024**2:.1f} GiB" if number.isdigit() else meminfo


def bench_shape(session: Session, shape: str, runs: int, warmup: int) -> None:
    print(f"{shape}: generating (or reusing) the corpus at scale {session.scale}",
          file=sys.stderr)
    started = time.perf_counter()
    corpus = corpora.generate(shape, session.work / "corpora" / f"{shape}-{session.scale:g}",
                              scale=session.scale, seed=session.seed)
    print(f"{shape}: {corpus.files} files, {corpus.bytes / 1e6:.0f} MB "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    bench = ShapeBench(session, corpus, session.work / "scratch" / shape)
    export = preserve_has_export()
    only = ("preserve ingest", "preserve audit --all") if shape == "scaling" else None
    measures = bench.tools(export=export, only=only)
    if shape == "scaling":
        runs, warmup = 1, 0  # one 200,000-file round, after reading the corpus once
        subprocess.run(f"xargs -0 -a {shlex.quote(str(bench.w / 'files.list'))} cat "
                       "> /dev/null", shell=True, check=True)
    session.append({"type": "shape", "shape": shape, "scale": session.scale,
                    "files": corpus.files, "bytes": corpus.bytes, "runs": runs,
                    "warmup": warmup, "export": export,
                    "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    if not export and shape != "scaling":
        session.append({"type": "unavailable", "shape": shape, "tool": "preserve export",
                        "reason": "`preserve export --help` failed: not available in this "
                                  "build"})
    bench.run(measures, warmup + runs, warmup)
    _rm(bench.w)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(MAIN_SHAPES),
                        help=f"comma-separated, from {', '.join(ALL_SHAPES)}, or 'all' (all but s3)")
    parser.add_argument("--quick", action="store_true",
                        help="laptop scale: --scale 0.1 and 2 runs unless given")
    parser.add_argument("--scale", type=float, help="multiplies file counts (default 1)")
    parser.add_argument("--runs", type=int, help="measured runs per tool (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted first runs")
    parser.add_argument("--out", type=Path,
                        help="the report (default docs/performance.md; with --quick, in --work)")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "benchmarks" / "results.jsonl")
    parser.add_argument("--work", type=Path, default=Path("/tmp/preserve-bench"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--schemas", type=Path,
                        default=Path(os.environ.get("PRESERVE_SCHEMAS")
                                     or REPO_ROOT.parent / "shared" / "schemas"),
                        help="official XSDs for METS validation at ingest (if present)")
    parser.add_argument("--due-copies", type=int, default=None,
                        help="copies in the due-copy catalog benchmark (default 1,000,000 × scale)")
    parser.add_argument("--postgres", default=os.environ.get(
        "PRESERVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL for the due-copy benchmark ('none' to skip)")
    parser.add_argument("--clean", action="store_true", help="delete the corpora afterwards")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite --out from --results (after editing "
                             "benchmarks/analysis.md)")
    args = parser.parse_args(argv)

    shapes = FULL_RUN if args.shapes == "all" else tuple(args.shapes.split(","))
    unknown = [s for s in shapes if s not in ALL_SHAPES]
    if unknown:
        parser.error(f"unknown shape(s): {', '.join(unknown)}")
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    runs = args.runs if args.runs is not None else (2 if args.quick else 3)
    if runs < 1 or args.warmup < 0 or scale <= 0:
        parser.error("--runs must be at least 1, --warmup at least 0, --scale positive")
    out = args.out or (args.work / "performance.md" if args.quick
                       else REPO_ROOT / "docs" / "performance.md")
    if args.report_only:
        report.write(args.results, out, scale=scale)
        print(f"report: {out}", file=sys.stderr)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    schemas = args.schemas if (args.schemas / "catalog.xml").is_file() else None
    command = shlex.join(["python", "-m", "benchmarks.run", *(sys.argv[1:] if argv is None
                                                              else argv)])
    session = Session(id=uuid.uuid4().hex[:12], command=command, results=args.results,
                      work=args.work, scale=scale, seed=args.seed, schemas=schemas,
                      log=args.work / "commands.log")
    session.machine = machine_facts(args.work)
    session.append({"type": "session", "command": command, "scale": scale,
                    "machine": session.machine, "schemas": str(schemas) if schemas else None,
                    "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    print(f"session {session.id}: {command}", file=sys.stderr)
    for shape in shapes:
        if shape == "due-copies":
            from benchmarks import catalog_bench

            count = args.due_copies or max(1000, round(1_000_000 * scale))
            catalog_bench.run(session, count, args.postgres)
        elif shape == "s3":
            from benchmarks import s3_bench

            s3_bench.run(session, runs, args.warmup)
        elif shape == "memory-guard":
            from benchmarks import memory_guard

            memory_guard.run(session)
        elif shape == "identify":
            from benchmarks import identify_bench

            identify_bench.run(session, max(10, round(5000 * scale)))
        else:
            bench_shape(session, shape, runs, args.warmup)
    if args.clean:
        _rm(args.work / "corpora")
    report.write(args.results, out, scale=scale)
    print(f"report: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
