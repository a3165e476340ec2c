"""Replication to S3 and reading S3 back, next to plain boto3 (issue 13, "Speed").

On the local Swift server (scripts/swift_server.py, a real S3 server) and for the many-small
and images corpora (benchmarks/corpus.py) at the session's scale, each round times, in this
order, alternating ours and the yardstick:

- `copy_version → S3`: `preserve.storage.replica.copy_version` of a one-version OCFL object
  (built from the corpus in a local storage root, untimed) to a new bucket: every file hashed
  while streaming, uploaded, read back and hashed again, inventories last;
- `boto3 put_object`: the same content files uploaded by plain boto3 calls to a new bucket,
  one `put_object` per file in a pool of the same number of threads, nothing verified;
- `hash_stored (S3)`: every content file of the replica read back and hashed (sha256 +
  sha512 in one read), as an audit of the S3 location does, in a pool of threads;
- `boto3 get_object + hash`: the same objects fetched with plain `get_object` and hashed the
  same way, in a pool of the same size;
- `boto3 put + get + hash`: per file, `put_object` then `get_object` of it and sha256 +
  sha512 of the body, in a pool of the same size, to a new bucket: the requests
  `copy_version` makes for a content file (it must read every replica back before it
  counts, issue 13), in plain boto3, nothing compared.

Every pool has WORKERS threads and every boto3 client (ours through `S3Location(...,
max_connections=WORKERS)`) a connection pool of WORKERS, so both sides have the same number
of requests in flight. Ratios are yardstick seconds / ours (targets: ≥ 0.8 for both pairs).
The third ratio, replication against `boto3 put + get + hash`, is the like-for-like one:
against a bare `put_object` a replication with read-back makes twice the requests. In-process,
warm page cache; medians of the measured rounds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
import shutil
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import corpus as corpora

if TYPE_CHECKING:
    from benchmarks.run import Session

SHAPES = ("many-small", "images")
WORKERS = 16  # requests in flight: small files are bound by round trips, not bandwidth
PAIRS = (("copy_version → S3", "boto3 put_object", "replication"),
         ("hash_stored (S3)", "boto3 get_object + hash", "read + hash"),
         ("copy_version → S3", "boto3 put + get + hash", "replication with read-back"))
OBJECT_ID = "bench-s3"


def _swift_server_module():
    path = Path(__file__).resolve().parent.parent / "scripts" / "swift_server.py"
    spec = importlib.util.spec_from_file_location("preserve_swift_server", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("preserve_swift_server", module)
    spec.loader.exec_module(module)
    return module


def _build_object(corpus: corpora.Corpus, where: Path):
    """A local storage root holding the corpus as v1 of one object (untimed)."""
    from preserve.checksums import hash_file
    from preserve.storage import StorageRoot
    from preserve.storage.local import LocalLocation

    root = StorageRoot.create(where / "ocfl")
    builder = root.begin_version(OBJECT_ID, where / "staging")
    for dirpath, _dirs, files in os.walk(corpus.payload):
        for name in files:
            source = Path(dirpath, name)
            logical = "data/" + source.relative_to(corpus.payload).as_posix()
            target = builder.content_target(logical)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            builder.add(logical, hash_file(target, ("sha256", "sha512"))[1])
    builder.commit(created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), message="bench",
                   user_name="bench", user_address="mailto:bench@example.org")
    return LocalLocation("local", root.path)


def _plain_client(server):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=server.access_key,
                        aws_secret_access_key=server.secret_key,
                        config=Config(s3={"addressing_style": "path"},
                                      request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required",
                                      max_pool_connections=WORKERS))


def _hash_body(body) -> None:
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    while chunk := body.read(1 << 20):
        sha256.update(chunk)
        sha512.update(chunk)


def run(session: Session, runs: int, warmup: int) -> None:
    from preserve.storage.replica import copy_version, hash_stored
    from preserve.storage.s3 import S3Location

    server = _swift_server_module().SwiftServer().start()
    try:
        for shape in SHAPES:
            corpus = corpora.generate(shape, session.work / "corpora" /
                                      f"{shape}-{session.scale:g}",
                                      scale=session.scale, seed=session.seed)
            scratch = session.work / "scratch" / f"s3-{shape}"
            shutil.rmtree(scratch, ignore_errors=True)
            (scratch / "staging").mkdir(parents=True)
            local = _build_object(corpus, scratch)
            files = [e for e in local.iter_entries() if "/v1/content/" in e.path]
            total = sum(e.size for e in files)
            session.append({"type": "s3-shape", "shape": shape, "scale": session.scale,
                            "files": len(files), "bytes": total, "workers": WORKERS,
                            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
            print(f"s3 {shape}: {len(files)} files, {total / 1e6:.0f} MB", file=sys.stderr)
            plain = _plain_client(server)

            def location(bucket: str) -> S3Location:
                return S3Location("bench-s3", endpoint=server.endpoint, bucket=bucket,
                                  access_key=server.access_key, secret_key=server.secret_key,
                                  max_connections=WORKERS)

            for round_no in range(warmup + runs):
                ours, theirs = location(f"ours-{uuid.uuid4().hex[:12]}"), \
                    f"plain-{uuid.uuid4().hex[:12]}"
                ours.create_bucket_if_missing()
                plain.create_bucket(Bucket=theirs)

                def put(entry) -> None:
                    with local.open_read(entry.path) as stream:
                        plain.put_object(Bucket=theirs, Key=entry.path, Body=stream,
                                         ContentLength=entry.size)

                def get(entry) -> None:
                    _hash_body(plain.get_object(Bucket=theirs, Key=entry.path)["Body"])

                checked = f"plain-{uuid.uuid4().hex[:12]}"
                plain.create_bucket(Bucket=checked)

                def put_get(entry) -> None:
                    with local.open_read(entry.path) as stream:
                        plain.put_object(Bucket=checked, Key=entry.path, Body=stream,
                                         ContentLength=entry.size)
                    _hash_body(plain.get_object(Bucket=checked, Key=entry.path)["Body"])

                with ThreadPoolExecutor(WORKERS) as pool:
                    timings = {
                        "copy_version → S3": lambda: copy_version(local, ours, OBJECT_ID, 1,
                                                                  workers=WORKERS),
                        "boto3 put_object": lambda: list(pool.map(put, files)),
                        "hash_stored (S3)": lambda: list(pool.map(
                            lambda e: hash_stored(ours, e.path), files)),
                        "boto3 get_object + hash": lambda: list(pool.map(get, files)),
                        "boto3 put + get + hash": lambda: list(pool.map(put_get, files)),
                    }
                    for tool, call in timings.items():
                        started = time.perf_counter()
                        call()
                        seconds = time.perf_counter() - started
                        session.append({"type": "s3", "shape": shape, "scale": session.scale,
                                        "tool": tool, "round": round_no,
                                        "warmup": round_no < warmup,
                                        "seconds": round(seconds, 4), "files": len(files),
                                        "bytes": total})
                        print(f"  [{round_no}{'w' if round_no < warmup else ''}] {tool:26s} "
                              f"{seconds:7.2f} s  {len(files) / seconds:7.0f} files/s  "
                              f"{total / 1e6 / seconds:6.1f} MB/s", file=sys.stderr)
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        server.stop()


def summarise(records: list[dict]) -> list[dict]:
    """Per shape of the newest s3 session: median seconds per tool and the two ratios."""
    rows = [r for r in records if r.get("type") == "s3" and not r["warmup"]]
    if not rows:
        return []
    session = rows[-1]["session"]
    out = []
    for shape in SHAPES:
        mine = [r for r in rows if r["session"] == session and r["shape"] == shape]
        if not mine:
            continue
        median = {tool: statistics.median(r["seconds"] for r in mine if r["tool"] == tool)
                  for tool in {r["tool"] for r in mine}}
        # copy_version reads every file back (a GET + hash per file) before it counts, which
        # a bare put_object does not: the same work in plain boto3 is both yardsticks.
        # (measured since the yardstick ran itself; older sessions: the sum of the two)
        both = ("boto3 put_object", "boto3 get_object + hash")
        if "boto3 put + get + hash" not in median and all(tool in median for tool in both):
            median["boto3 put + get + hash"] = sum(median[tool] for tool in both)
        for ours, theirs, what in PAIRS:
            if ours in median and theirs in median:
                out.append({"session": session, "shape": shape, "what": what, "ours": ours,
                            "yardstick": theirs, "files": mine[0]["files"],
                            "bytes": mine[0]["bytes"], "ours_seconds": median[ours],
                            "yardstick_seconds": median[theirs],
                            "ratio": median[theirs] / median[ours]})
    return out
