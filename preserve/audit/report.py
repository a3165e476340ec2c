"""What an audit found, as values: problems, per-package status, the run's numbers.

`AuditReport.as_dict` is the one document behind `preserve --json audit`, the text summary and
the HTML page (`html.py`): the three views never disagree (STYLE.md, "Output").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from preserve.catalog import ChainReport, OpenProblem
from preserve.findings import CATALOGUE
from preserve.model import ChainHead, Finding, Severity

#: Short names of problems, as the JSON `problem` field spells them, by finding code.
PROBLEMS: dict[str, str] = {
    "AUD-E001": "damaged",
    "AUD-E002": "catalog-mismatch",
    "AUD-E003": "inventory-mismatch",
    "AUD-E004": "damaged",
    "AUD-E005": "bad-inventory",
    "AUD-E006": "missing",
    "AUD-E007": "could-not-check",
    "AUD-E008": "unexpected",
    "AUD-E009": "object-missing",
    "AUD-E010": "unknown-object",
    "AUD-E011": "broken-event-chain",
    "AUD-E012": "unknown-object",
    "AUD-E013": "sources-disagree",
    "AUD-E014": "inventory-rewritten",
    "AUD-E015": "log-unguarded",
    "AUD-E016": "unexpected",
    "AUD-E017": "undeclared-object",
    "AUD-E018": "still-damaged",
    "AUD-W001": "log-head-not-anchored",
    "AUD-W002": "clock",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of an audit, with where it is."""

    code: str
    message: str
    package_id: str | None = None
    path: str = ""  # the logical path of a file, or a path relative to the object root
    content_path: str = ""  # OCFL content path, when the problem is one stored file
    quarantine: str = ""  # where a copy of a damaged file was kept

    @property
    def problem(self) -> str:
        return PROBLEMS[self.code]

    @property
    def is_error(self) -> bool:
        return CATALOGUE[self.code].severity is Severity.ERROR

    def finding(self) -> Finding:
        return Finding(self.code, CATALOGUE[self.code].severity, self.path, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "path": self.path, "problem": self.problem,
                "code": self.code, "content_path": self.content_path,
                "quarantine": self.quarantine, "message": self.message}


@dataclass(frozen=True, slots=True)
class PackageStatus:
    """How one package fared in a run."""

    package_id: str
    checked: int
    passed: int
    failed: int
    problems: int  # every problem of the package, file- or object-level

    @property
    def status(self) -> str:
        return "ok" if self.problems == 0 and self.failed == 0 else "failed"


@dataclass(frozen=True, slots=True)
class AuditReport:
    run_id: int
    started: dt.datetime
    finished: dt.datetime
    checked: int  # copies given an outcome
    bytes: int  # bytes read
    passed: int
    problems: tuple[Problem, ...]
    packages: tuple[PackageStatus, ...]
    chain: ChainReport
    stopped_by: str = ""  # the budget that ended the run early: max-files, max-bytes, max-duration
    open_problems: tuple[OpenProblem, ...] = ()  # every copy still damaged or missing
    recovered: tuple[tuple[str, str], ...] = ()  # (package, content path) healthy again
    coverage: tuple[int, int] = (0, 0)  # (copies held, copies overdue after this run)
    interval_days: float = 90.0
    titles: dict[str, str] | None = None  # package id -> title, for the views
    head: ChainHead | None = None  # the event log's head after this run's own events

    @property
    def ok(self) -> bool:
        """No error (warnings do not fail a run), an intact chain, no damage left."""
        return (not any(p.is_error for p in self.problems) and self.chain.ok
                and not self.open_problems)

    @property
    def failed(self) -> int:
        return self.checked - self.passed

    def findings(self) -> tuple[Finding, ...]:
        return tuple(p.finding() for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        listed = [p for p in self.problems if p.is_error and p.problem not in (
            "unexpected", "unknown-object", "broken-event-chain", "log-unguarded",
            "undeclared-object", "still-damaged")]
        return {
            "run_id": self.run_id,
            "status": "passed" if self.ok else "failed",
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "checked": self.checked,
            "bytes": self.bytes,
            "passed": self.passed,
            "failed": [{"package_id": p.package_id, "path": p.path, "problem": p.problem,
                        "code": p.code} for p in listed],
            "missing": [{"package_id": p.package_id, "path": p.path}
                        for p in self.problems if p.problem == "missing"],
            "unexpected": [{"package_id": p.package_id, "path": p.path, "code": p.code}
                           for p in self.problems if p.problem in ("unexpected", "unknown-object",
                                                                   "undeclared-object")],
            "chain_ok": self.chain.ok,
            "chain_problem": self.chain.problem,
            # Keep this elsewhere (a mail, another archive): a later log must still hold it.
            "chain_head": head.as_dict() if (head := self.head or self.chain.head) else None,
            "chain_anchored": self.chain.anchored.as_dict() if self.chain.anchored else None,
            "open_problems": [
                {"package_id": o.package_id, "content_path": o.content_path,
                 "location": o.location, "status": o.status, "since": o.since.isoformat(),
                 "paths": list(o.paths)} for o in self.open_problems],
            "recovered": [{"package_id": pid, "content_path": c} for pid, c in self.recovered],
            "warnings": [p.as_dict() for p in self.problems if not p.is_error],
            "duration_seconds": round((self.finished - self.started).total_seconds(), 3),
            "copies_held": self.coverage[0],
            "copies_overdue": self.coverage[1],
            "interval_days": self.interval_days,
            "stopped_by": self.stopped_by or None,
            "packages": [{"package_id": s.package_id, "status": s.status, "checked": s.checked,
                          "passed": s.passed, "failed": s.failed} for s in self.packages],
            "findings": [p.as_dict() for p in self.problems],
        }
