"""The floor: the least a Python program must do to copy-and-hash or hash a tree of files.

`copy`: every file read once in 1 MiB blocks, each block fed to every hash and written to the
destination, then one `os.sync()` so the copy is as durable as a `preserve ingest` (which
syncs its staged version once). `hash`: the same reads and hashes, nothing written — what an
audit must do at least. Files are spread over `--threads` threads; hashlib releases the GIL
on large buffers, so two threads use two cores. No checks, no metadata, no database: this is
what "as fast as Python can go on this machine" means in docs/performance.md.

    python -m benchmarks.floor copy SRC DST --threads 2 --algorithms sha256,sha512
    python -m benchmarks.floor hash SRC --threads 2
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BLOCK = 1 << 20
_local = threading.local()


def _buffer() -> memoryview:
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = memoryview(bytearray(BLOCK))
    return buf


def _walk(root: str) -> list[str]:
    found: list[str] = []
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    found.append(entry.path)
    return found


def _one(src: str, dst: str | None, algorithms: list[str]) -> tuple[int, list[str]]:
    hashers = [hashlib.new(a) for a in algorithms]
    buf = _buffer()
    size = 0
    out = open(dst, "wb") if dst is not None else None  # noqa: SIM115 - closed below
    try:
        with open(src, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                block = buf[:n]
                for h in hashers:
                    h.update(block)
                if out is not None:
                    out.write(block)
                size += n
    finally:
        if out is not None:
            out.close()
    return size, [h.hexdigest() for h in hashers]


def run(mode: str, src: Path, dst: Path | None, threads: int, algorithms: list[str]) -> int:
    """Copy-and-hash or hash every file under `src`; the number of bytes read."""
    root = os.fspath(src)
    files = _walk(root)
    targets: list[str | None] = [None] * len(files)
    if mode == "copy":
        assert dst is not None
        made: set[str] = set()
        for i, path in enumerate(files):
            target = os.path.join(os.fspath(dst), os.path.relpath(path, root))
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            targets[i] = target
    with ThreadPoolExecutor(max_workers=threads) as pool:
        total = sum(size for size, _ in pool.map(lambda p: _one(p[0], p[1], algorithms),
                                                 zip(files, targets, strict=True)))
    if mode == "copy":
        os.sync()
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("copy", "hash"))
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path, nargs="?")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--algorithms", default="sha256,sha512")
    args = parser.parse_args(argv)
    if (args.mode == "copy") != (args.dst is not None):
        parser.error("copy takes SRC and DST; hash takes SRC only")
    run(args.mode, args.src, args.dst, args.threads, args.algorithms.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
