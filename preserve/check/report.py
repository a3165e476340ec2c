"""What `preserve check` found and what it did: the plan (read-only) and the report.

`Inconsistency` is one thing out of step between staging, storage and catalog, with the
finding the operator reads and the action `--repair` would take. `Action` is what was done
about one of them, with the PREMIS event that records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from preserve.model import Finding, Severity


class Kind(str, Enum):
    """The kinds of inconsistency (issue 6, item 3), each with its finding code."""

    STAGING = "orphaned staging directory"  # CHK-E001
    ORPHAN = "object without catalog rows"  # CHK-E002
    MISSING = "package without object"  # CHK-E003
    STUCK = "deposit stuck in progress"  # CHK-E004
    INVALID = "invalid object directory"  # CHK-E005
    VERSIONS = "versions out of step"  # CHK-E006
    EMPTY = "empty directory in the storage root"  # CHK-E008
    STRAY = "stray path in the storage root"  # CHK-E010
    UNDECLARED = "object directory without declaration"  # CHK-E011
    DAMAGED = "damaged or missing copy"  # CHK-E012
    UNGUARDED = "event log without append-only triggers"  # CHK-E013
    RUNNING = "audit run left running"  # CHK-E014
    PARTIAL = "partial export left behind"  # CHK-E015
    DEACCESSION = "deaccession left unfinished"  # CHK-E016


class Plan(str, Enum):
    """What `--repair` does about an inconsistency."""

    REMOVE = "remove"
    REMOVE_EMPTY = "remove the empty directory"
    ADOPT = "validate, then adopt or quarantine"
    ADOPT_VERSIONS = "validate, then adopt the new versions"
    QUARANTINE = "move into quarantine"
    MARK_MISSING = "mark copies missing"
    MARK_FAILED = "mark failed"
    CLOSE_RUN = "close as interrupted"
    REMOVE_PARTIAL = "remove the partial file"
    FINISH_DEACCESSION = "remove the remaining copies, record the deaccession"
    NOTHING = "nothing (needs the operator)"


@dataclass(frozen=True, slots=True)
class Inconsistency:
    kind: Kind
    plan: Plan
    finding: Finding
    target: str  # what it is about, for people: a path, a package id, a deposit id
    package_id: str | None = None
    deposit_id: int | None = None
    run_id: int | None = None
    request_id: int | None = None  # a deaccession request (Kind.DEACCESSION)
    object_path: str | None = None  # relative to the storage root

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "code": self.finding.code, "target": self.target,
                "package_id": self.package_id, "deposit_id": self.deposit_id,
                "object_path": self.object_path, "repair": self.plan.value,
                "message": self.finding.message}


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """Everything found, in a stable order; `skipped` are warnings about things too young
    to touch (they may belong to an ingest running now)."""

    found: tuple[Inconsistency, ...]
    skipped: tuple[Finding, ...] = ()

    @property
    def consistent(self) -> bool:
        return not self.found

    @property
    def actionable(self) -> tuple[Inconsistency, ...]:
        return tuple(i for i in self.found if i.plan is not Plan.NOTHING)


@dataclass(frozen=True, slots=True)
class Action:
    """One repair done (or attempted) and the event that records it."""

    kind: Kind
    target: str
    action: str  # "removed", "adopted", "quarantined", "marked missing", "marked failed", ...
    ok: bool
    detail: str = ""
    event: str | None = None  # PREMIS eventIdentifier of the event that records it
    package_id: str | None = None
    remains: bool = False  # the operator still has something to do (restore, investigate)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "target": self.target, "action": self.action,
                "ok": self.ok, "detail": self.detail, "event": self.event,
                "package_id": self.package_id, "needs_operator": self.remains}


@dataclass(slots=True)
class CheckReport:
    plan: CheckPlan
    repaired: bool = False  # --repair ran (confirmed)
    actions: list[Action] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # raised while repairing

    @property
    def needs_attention(self) -> bool:
        """True when exit 12 is due: something found and not (fully) repaired."""
        if not self.repaired:
            return not self.plan.consistent
        return (any(not a.ok or a.remains for a in self.actions)
                or any(i.plan is Plan.NOTHING for i in self.plan.found)
                or any(f.severity is Severity.ERROR for f in self.findings))

    def all_findings(self) -> list[Finding]:
        return [*(i.finding for i in self.plan.found), *self.plan.skipped, *self.findings]

    def as_dict(self) -> dict[str, Any]:
        return {
            "consistent": self.plan.consistent,
            "repaired": self.repaired,
            "needs_attention": self.needs_attention,
            "found": [i.as_dict() for i in self.plan.found],
            "actions": [a.as_dict() for a in self.actions],
            "findings": [f.as_dict() for f in self.all_findings()],
        }
