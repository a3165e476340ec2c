"""Ingest workflow: validate a deposit and store it as a package version (DESIGN.md, "Data flow")."""

from __future__ import annotations

from preserve.lazy import lazy_exports

# Names are imported on first use (PEP 562; see preserve.lazy).
_EXPORTS = {
    "IngestOptions": "preserve.ingest.ingest",
    "IngestResult": "preserve.ingest.ingest",
    "ingest_deposit": "preserve.ingest.ingest",
    "payload_fingerprint": "preserve.ingest.ingest",
    "stored_mets": "preserve.ingest.stored",
    "stored_titles": "preserve.ingest.stored",
    "Against": "preserve.ingest.validate",
    "ValidationReport": "preserve.ingest.validate",
    "validate_deposit": "preserve.ingest.validate",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
