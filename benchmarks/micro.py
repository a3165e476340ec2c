"""Small measurements behind the findings in docs/performance.md ("Profile and findings").

    python -m benchmarks.micro hash-many DIR            # preserve.checksums.hash_many, 2 threads
    python -m benchmarks.micro mets-memory 20000        # build + validate a METS of N files
    python -m benchmarks.micro siegfried-sizes          # siegfried CPU per file by size

Each prints one line per measurement. They run in this process (no subprocess timing), so
they isolate one part of preserve from start-up and the rest of a command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def hash_many_cpu(root: Path, rounds: int = 3) -> None:
    """Wall and CPU time of hash_many (sha256+sha512, 2 threads) over every file under root."""
    from preserve.checksums import HashJob, hash_many

    jobs = [HashJob(str(i), p) for i, p in enumerate(sorted(root.rglob("*"))) if p.is_file()]
    hash_many(jobs[:1000], ("sha256", "sha512"), 2)  # warm
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        hash_many(jobs, ("sha256", "sha512"), 2)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(f"hash_many {len(jobs)} files: wall {statistics.median(walls):.2f} s, "
          f"CPU {statistics.median(cpus):.2f} s (medians of {rounds})")


def mets_memory(count: int, schemas: Path | None) -> None:
    """RSS and time of build_mets (and validate_mets, with schemas) for `count` files."""
    from preserve.metadata import MetsFile, build_mets
    from preserve.metadata.schemas import find_schemas

    files = [MetsFile(path=f"data/қўлёзма_{i // 1000:03d}/gʻazal_{i % 100:02d}/file_{i:06d}.tif",
                      size=30_000 + i, sha256=f"{i:064x}", sha512=f"{i:0128x}")
             for i in range(count)]
    schema_set = find_schemas(schemas) if schemas else None
    base, start = _rss_mib(), time.perf_counter()
    document = build_mets(package_id="x", version=1, created=dt.datetime.now(dt.UTC),
                          files=files, bag_info=[("Source-Organization", "X")],
                          software="preserve")
    built, after_build = time.perf_counter(), _rss_mib()
    if schema_set is not None:
        schema_set.validate_mets(document)
    done = time.perf_counter()
    print(f"METS of {count} files: {len(document) / 1e6:.0f} MB; build +{after_build - base} "
          f"MiB RSS, {built - start:.1f} s; validate {done - built:.1f} s, peak {_rss_mib()} MiB"
          + ("" if schema_set else " (no schemas: not validated)"))


def siegfried_sizes(per_size: int = 300) -> None:
    """siegfried CPU per file of random bytes by size and extension (one core)."""
    import pygfried

    scanner = pygfried.Scanner()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        for size in (4096, 65536, 1 << 20):
            for ext in (".tif", ".bin"):
                paths = []
                for i in range(per_size if size < 1 << 20 else per_size // 5):
                    path = os.path.join(tmp, f"{size}-{i}{ext}")
                    with open(path, "wb") as out:
                        out.write(rng.randbytes(size))
                    paths.append(path)
                scanner.identify_many(paths[:5])
                cpu = time.process_time()
                scanner.identify_many(paths, workers=1)
                cpu = time.process_time() - cpu
                print(f"siegfried {size:>8} bytes {ext}: {cpu / len(paths) * 1000:.2f} ms CPU "
                      "per file")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    h = sub.add_parser("hash-many")
    h.add_argument("root", type=Path)
    m = sub.add_parser("mets-memory")
    m.add_argument("count", type=int)
    m.add_argument("--schemas", type=Path, default=os.environ.get("PRESERVE_SCHEMAS") or None)
    sub.add_parser("siegfried-sizes")
    args = parser.parse_args(argv)
    if args.what == "hash-many":
        hash_many_cpu(args.root)
    elif args.what == "mets-memory":
        mets_memory(args.count, args.schemas)
    else:
        siegfried_sizes()
    return 0


if __name__ == "__main__":
    sys.exit(main())
