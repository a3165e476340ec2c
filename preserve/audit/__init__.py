"""Fixity audits (DESIGN.md, "Data flow": audit; issue 4): a workflow over the storage and
catalog adapters. `run_audit` re-reads due copies and records what it found; `audit_lock`
keeps runs from overlapping; `html_report` renders a run for people.
"""

from preserve.audit.html import html_report
from preserve.audit.lock import AuditRunning, audit_lock
from preserve.audit.report import AuditReport, PackageStatus, Problem
from preserve.audit.run import Budgets, Selection, run_audit
from preserve.audit.throttle import Throttle

__all__ = [
    "AuditReport", "AuditRunning", "Budgets", "PackageStatus", "Problem", "Selection",
    "Throttle", "audit_lock", "html_report", "run_audit",
]
