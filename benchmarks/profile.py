"""Profile one command with py-spy and print where its threads spend their time.

    pip install py-spy     # not a dependency of preserve
    python -m benchmarks.profile -- preserve --repo R -q ingest BAG --id x
    python -m benchmarks.profile --raw existing.txt

py-spy samples every thread (`--threads`, 100 Hz; idle threads are not sampled), writes the
collapsed stacks, and this prints samples per thread, then the functions holding the largest
share of samples inclusively and by themselves (file names without directories). The
findings in docs/performance.md ("Profile and findings") come from this output.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_FRAME = re.compile(r" \((?:.*/)?([^/]*?):\d+\)$")


def summarise(raw: Path, top: int = 40) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        threads[frames[0]] += n
        names = [_FRAME.sub(r" (\1)", f) for f in frames[1:]]
        for name in set(names):
            inclusive[name] += n
        if names:
            own[names[-1]] += n
    if not total:
        return "no samples"
    out = [f"{total} samples"]
    out += [f"  {c:6d}  {t}" for t, c in threads.most_common(8)]
    out.append("inclusive:")
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(top)]
    out.append("self:")
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top // 2)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, help="summarise this py-spy raw file instead")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("command", nargs="*")
    args = parser.parse_args(argv)
    if args.raw is not None:
        print(summarise(args.raw, args.top))
        return 0
    if not args.command:
        parser.error("give a command after --, or --raw FILE")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.txt"
        done = subprocess.run([py_spy, "record", "--threads", "--format", "raw", "-r", "100",
                               "-o", str(raw), "--", *args.command])
        if not raw.is_file():
            return done.returncode or 1
        print(summarise(raw, args.top))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
