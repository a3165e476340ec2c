"""Fixity audits (DESIGN.md, "Data flow": audit; issue 4): a workflow over the storage and
catalog adapters. `run_audit` re-reads due copies and records what it found; `audit_lock`
keeps runs from overlapping; `html_report` renders a run for people.
"""

from __future__ import annotations

from preserve.lazy import lazy_exports

# Names are imported on first use (PEP 562; see preserve.lazy): a run without --report
# never loads the HTML report, a queued audit (--enqueue) not the reading workflow.
_EXPORTS = {
    "AuditReport": "preserve.audit.report",
    "PackageStatus": "preserve.audit.report",
    "Problem": "preserve.audit.report",
    "AuditRunning": "preserve.audit.lock",
    "audit_lock": "preserve.audit.lock",
    "Budgets": "preserve.audit.run",
    "Selection": "preserve.audit.run",
    "run_audit": "preserve.audit.run",
    "Throttle": "preserve.audit.throttle",
    "html_report": "preserve.audit.html",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
