"""`preserve validate`: everything an ingest checks, with nothing stored.

The deposit is opened (for zip/tar: inspected, then unpacked into a temporary work directory
that is removed afterwards), every payload file is read once and checked against the manifests.
Supplied descriptive metadata (CSV, DC and MODS XML) is read as ingest reads it. A package
from another archive is checked as ingest would: its METS against the XSDs, its
payload against the checksums the METS declares (`preserve.ingest.history`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.catalog import Catalog
from preserve.checksums import Progress
from preserve.deposit import Limits, ProfileChoice, open_deposit, profile_findings
from preserve.errors import UsageError
from preserve.findings import has_errors
from preserve.ingest import decisions
from preserve.ingest.history import SenderHistory, read_sender_history, sender_mets
from preserve.ingest.ingest import payload_fingerprint
from preserve.ingest.reading import read_payload
from preserve.ingest.supplied import folder_metadata, read_supplied, supplied_paths
from preserve.metadata import SchemaSet
from preserve.metadata.supplied import MODS_XML_PATH
from preserve.model import Finding, PayloadFile, Severity, utc_now
from preserve.safeio import read_regular


@dataclass(frozen=True, slots=True)
class ValidationReport:
    source: Path
    kind: str
    findings: tuple[Finding, ...]
    files: tuple[PayloadFile, ...]

    @property
    def valid(self) -> bool:
        return not has_errors(self.findings)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True, slots=True)
class Against:
    """A repository to validate against, with the ingest options that decide there: then
    validate reports what `ingest` would refuse (ING-E001/E002/E003/E004/E009)."""

    catalog: Catalog
    package_id: str | None = None
    as_version_of: str | None = None
    allow_unchanged: bool = False
    allow_deaccessioned_id: bool = False  # ING-E010 otherwise (issue 16 §2)


def validate_deposit(
    source: Path,
    *,
    limits: Limits = Limits(),
    workers: int = 0,
    work_parent: Path | None = None,
    progress: Progress | None = None,
    schemas: Callable[[], SchemaSet | None] | None = None,
    against: Against | None = None,
    profiles: ProfileChoice | None = None,
) -> ValidationReport:
    """Validate the deposit at `source`; payload bytes are read but never written anywhere.

    `schemas` gives the XSDs to check a sender's METS with; it is called only when the
    deposit carries one (compiling them costs a moment). With `against`, the repository's
    decisions are reported too (preserve.ingest.decisions), exactly as ingest makes them.
    """
    work_dir = Path(tempfile.mkdtemp(prefix="preserve-validate-", dir=work_parent))
    try:
        deposit = open_deposit(source, work_dir, limits)
        profiled = profile_findings(deposit, profiles)  # as ingest: on the deposit as handed in
        deposit, taken = folder_metadata(deposit)  # as ingest
        # Payload entries are regular files only, so reading them is safe even when the
        # structure has errors; doing it reports every finding at once.
        sender: SenderHistory | None = None
        found: list[Finding] = []
        if sender_mets(deposit) is not None:  # as ingest: before the read, for its algorithms
            sender, found = read_sender_history(deposit, schemas() if schemas else None,
                                                limits.max_tag_file_size)
        read = read_payload(deposit, workers=workers, progress=progress,
                            algorithms=sender.algorithms if sender else ())
        findings = [*deposit.findings, *profiled, *taken, *read.findings]
        findings += _supplied_findings(deposit, limits, schemas)
        findings += found
        if sender is not None:
            findings += sender.check_payload(read.files)
        if against is not None:
            findings += _repository_findings(against, deposit, sender, read.files,
                                             structural_errors=has_errors(findings))
        files = read.files
        return ValidationReport(source, deposit.kind.value, tuple(findings), files)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _repository_findings(against: Against, deposit, sender,  # type: ignore[no-untyped-def]
                         files: Sequence[PayloadFile], *, structural_errors: bool) -> list[Finding]:
    """What ingest decides against the repository, in ingest's order: identifiers and the id
    first; the payload only for a deposit without errors so far (as ingest, which rejects
    before it compares payloads)."""
    if against.as_version_of is not None and against.package_id is not None:
        raise UsageError(detail="--id cannot be combined with --as-version-of: a new version "
                         "keeps its package's id")
    catalog = against.catalog
    found = decisions.identifier_findings(
        catalog, deposit.bag_info_values("External-Identifier"), against.as_version_of,
        against.allow_deaccessioned_id)
    if against.as_version_of is None:
        chosen = against.package_id or (sender.objid if sender is not None else None)
        if chosen:
            found += decisions.id_findings(catalog, chosen, True)
    if not structural_errors and not has_errors(found):
        found += decisions.payload_findings(catalog, payload_fingerprint(files),
                                            against.as_version_of, against.allow_unchanged)
    return found


def _supplied_findings(deposit, limits: Limits,  # type: ignore[no-untyped-def]
                       schemas: Callable[[], SchemaSet | None] | None) -> list[Finding]:
    tag_paths = [tag.path for tag in deposit.tag_files]
    wanted = supplied_paths(tag_paths)
    if not wanted:
        return []
    files = {tag.path: read_regular(tag.source, limits.max_tag_file_size)
             for tag in deposit.tag_files if tag.path in wanted}
    needs_schemas = MODS_XML_PATH in files
    checker = schemas() if (schemas and needs_schemas) else None
    return read_supplied(files, tag_paths, checker, utc_now()).findings
