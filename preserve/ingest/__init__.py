"""Ingest workflow: validate a deposit and store it as a package version (DESIGN.md, "Data flow")."""

from preserve.ingest.ingest import IngestOptions, IngestResult, ingest_deposit, payload_fingerprint
from preserve.ingest.stored import stored_mets, stored_titles
from preserve.ingest.validate import ValidationReport, validate_deposit

__all__ = ["IngestOptions", "IngestResult", "ValidationReport", "ingest_deposit",
           "payload_fingerprint", "stored_mets", "stored_titles", "validate_deposit"]
