"""Ingest workflow: validate a deposit and store it as a package version (DESIGN.md, "Data flow")."""

from __future__ import annotations

import importlib
from typing import Any

# Names are imported on first use (PEP 562): the CLI imports this package for one
# command, and loading every module (SQLAlchemy, Alembic, lxml) costs a third of a
# second of start-up that `preserve validate` never needs.
_EXPORTS = {
    "IngestOptions": "preserve.ingest.ingest",
    "IngestResult": "preserve.ingest.ingest",
    "ingest_deposit": "preserve.ingest.ingest",
    "payload_fingerprint": "preserve.ingest.ingest",
    "stored_mets": "preserve.ingest.stored",
    "stored_titles": "preserve.ingest.stored",
    "ValidationReport": "preserve.ingest.validate",
    "validate_deposit": "preserve.ingest.validate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
