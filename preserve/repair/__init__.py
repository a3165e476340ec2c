"""Workflow: restore damaged or missing copies from a copy verified good now (issue 13, item 5)."""

from preserve.repair.repair import RepairReport, repair_copies

__all__ = ["RepairReport", "repair_copies"]
