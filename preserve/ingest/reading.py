"""The one read of a deposit's payload, shared by `validate` and `ingest`.

Every payload byte is read once (DESIGN.md, "Data flow"): in that read every digest the
deposit declares plus sha256 and sha512 are computed, and for an ingest the bytes are written
to their place in the staged OCFL version at the same time. Afterwards the computed digests are
compared with the deposit's manifests and Payload-Oxum (RFC 8493 sections 2.1.3, 2.2.2, 3).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from preserve.checksums import HashJob, HashResult, Progress, hash_many
from preserve.deposit import Deposit, check_payload, required_algorithms
from preserve.findings import finding
from preserve.model import Finding, PayloadFile

log = logging.getLogger(__name__)

#: Maps a payload path (relative to data/) to the file its bytes are copied into, or None to
#: only hash it.
TargetFor = Callable[[str], Path | None]
#: Told of each payload file read: its path (relative to data/), where it is, its digests.
OnRead = Callable[[str, Path, Mapping[str, str]], None]


@dataclass(frozen=True, slots=True)
class PayloadRead:
    files: tuple[PayloadFile, ...]  # sorted by path
    findings: tuple[Finding, ...]

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


def read_payload(
    deposit: Deposit,
    *,
    workers: int,
    target_for: TargetFor | None = None,
    progress: Progress | None = None,
    move: bool = False,
    algorithms: Collection[str] = (),
    on_read: OnRead | None = None,
) -> PayloadRead:
    """Read (and optionally copy) every payload file once, then check it against the deposit.

    With `move`, files are renamed to their target after hashing instead of copied: for
    deposits we unpacked ourselves into staging, whose files are already ours. Files are not
    fsynced one by one: the storage adapter makes the whole staged version durable before
    it moves it into the storage root (one syncfs on Linux). `algorithms` are computed in the
    same read besides ours and the manifests' (those a sender's METS declares). `on_read` is
    called (from the reading threads) with each file read: its payload path, where the file is
    now (its target, if it has one) and its digests.
    """
    jobs = [
        HashJob(
            key=entry.path,
            source=entry.source,
            target=target_for(entry.path) if target_for else None,
            expected_size=entry.size,
            move=move,
        )
        for entry in deposit.payload
    ]
    if progress is not None:
        progress.start(sum(entry.size for entry in deposit.payload))
    def done(job: HashJob, result: HashResult) -> None:
        if on_read is not None:
            on_read(job.key, job.target if job.target is not None else job.source,
                    result.digests)

    results = hash_many(jobs, required_algorithms(deposit) | frozenset(algorithms),
                        workers or os.cpu_count() or 1,
                        progress=progress.advance if progress else None,
                        fsync=False, done=done if on_read is not None else None)
    findings: list[Finding] = []
    files: dict[str, PayloadFile] = {}
    for result in results:
        if result.error is not None:
            findings.append(finding("ING-E006", "data/" + result.key, detail=result.error))
            continue
        if result.changed:
            findings.append(finding(
                "ING-E005", "data/" + result.key,
                detail=f"listed with {result.expected_size} bytes, read {result.size}"))
        files[result.key] = PayloadFile(result.key, result.size, result.digests)
    findings.extend(check_payload(deposit, files))
    log.info("read %d payload files, %d bytes", len(files), sum(f.size for f in files.values()))
    return PayloadRead(tuple(files[k] for k in sorted(files)), tuple(findings))
