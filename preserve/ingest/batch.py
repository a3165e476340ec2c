"""Ingesting every deposit in a folder (`preserve ingest --batch DIR`, issue 16 §5).

Each entry at the top level of the folder (a bag or plain folder, a zip, a tar; hidden
entries ignored) is its own ingest attempt: its own deposit row, findings and PREMIS events,
exactly as `preserve ingest PATH` would make them. One deposit failing never stops the others.
The summary has one entry per deposit and totals; its exit code is the worst one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.catalog import Catalog
from preserve.errors import DepositRejected, ExitCode, PreserveError
from preserve.home import Home
from preserve.ingest.ingest import IngestOptions, ingest_deposit

#: Folders the drop-folder watcher keeps inside the folder it watches: never deposits.
RESERVED = frozenset({"done", "failed"})


@dataclass(frozen=True, slots=True)
class DepositOutcome:
    """What became of one deposit of a batch."""

    source: Path
    status: str  # ingested | rejected | failed
    exit_code: int
    package_id: str | None = None
    version: int | None = None
    files: int = 0
    bytes: int = 0
    findings: tuple[dict[str, Any], ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": os.fsdecode(self.source.name), "source": os.fsdecode(self.source),
                "status": self.status, "exit_code": self.exit_code,
                "package_id": self.package_id, "version": self.version, "files": self.files,
                "bytes": self.bytes, "findings": list(self.findings), "error": self.error}


def deposits_in(directory: Path, skip: frozenset[str] = frozenset()) -> list[Path]:
    """The deposits at the top level of `directory`, sorted by name; hidden entries (and the
    names in `skip`) are not deposits."""
    entries = []
    with os.scandir(directory) as listing:
        for entry in listing:
            if entry.name.startswith(".") or entry.name in skip:
                continue
            entries.append(Path(entry.path))
    return sorted(entries, key=lambda p: os.fsencode(p.name))


def ingest_one(home: Home, catalog: Catalog, source: Path,
               options: IngestOptions) -> DepositOutcome:
    """One ingest attempt whose failure is an outcome, not an exception (except interrupts)."""
    try:
        result = ingest_deposit(home, catalog, source, options)
    except DepositRejected as rejected:
        return DepositOutcome(source, "rejected", int(ExitCode.DEPOSIT_REJECTED),
                              findings=tuple(f.as_dict() for f in rejected.findings),
                              error=rejected.message)
    except PreserveError as error:  # storage, catalog, configuration: this deposit failed
        return DepositOutcome(source, "failed", int(error.exit_code), error=error.message)
    code = ExitCode.WARNINGS if result.findings else ExitCode.OK
    return DepositOutcome(source, "ingested", int(code), result.package_id, result.version,
                          result.files, result.bytes,
                          tuple(f.as_dict() for f in result.findings))


@dataclass(frozen=True, slots=True)
class BatchReport:
    directory: Path
    outcomes: tuple[DepositOutcome, ...]

    @property
    def exit_code(self) -> int:
        return max((o.exit_code for o in self.outcomes), default=int(ExitCode.OK))

    def totals(self) -> dict[str, int]:
        count = {status: sum(1 for o in self.outcomes if o.status == status)
                 for status in ("ingested", "rejected", "failed")}
        return {"deposits": len(self.outcomes), **count,
                "files": sum(o.files for o in self.outcomes),
                "bytes": sum(o.bytes for o in self.outcomes), "exit_code": self.exit_code}

    def as_dict(self) -> dict[str, Any]:
        return {"directory": os.fsdecode(self.directory),
                "deposits": [o.as_dict() for o in self.outcomes], "totals": self.totals()}


def ingest_batch(home: Home, catalog: Catalog, directory: Path, options: IngestOptions,
                 on_each: Callable[[DepositOutcome], None] | None = None) -> BatchReport:
    """Ingest every deposit in `directory`, one attempt each (see the module docstring)."""
    if options.package_id is not None or options.as_version_of is not None:
        from preserve.errors import UsageError
        raise UsageError(detail="--batch ingests many deposits: --id and --as-version-of name "
                         "one package and cannot be used with it")
    outcomes = []
    for source in deposits_in(directory, RESERVED):
        outcome = ingest_one(home, catalog, source, options)
        outcomes.append(outcome)
        if on_each is not None:
            on_each(outcome)
    return BatchReport(directory, tuple(outcomes))
