"""Deaccession with approval (issue 16 §2): request, approve by another person, remove every
copy, keep the tombstone. See docs/deaccession.md."""

from preserve.deaccession.workflow import (
    DeaccessionRefused,
    approve,
    complete,
    reject,
    request,
)

__all__ = ["DeaccessionRefused", "approve", "complete", "reject", "request"]
