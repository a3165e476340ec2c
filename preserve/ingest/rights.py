"""The rights statements a deposit brings (issue 16 §1; docs/rights.md), and
`preserve rights ID --add FILE` (preserve.ingest.rights_add) adds statements later.

A deposit's statements come from, in this order: the PREMIS rights of the METS it carries
(the sender's METS as history import finds it: a bag's `metadata/mets.xml`, an E-ARK
package's METS and PREMIS files, an Archivematica AIP's `data/METS.<uuid>.xml`; PREMIS 3.0 or
2.2), its bag-info labels (`Rights-Statement`, `License`, `Access-Restriction`), and
`metadata/rights.csv`. A bad row of the CSV is an error finding (RIGHTS-E00x): the deposit is
rejected, nothing is stored. A sender's statement that cannot be mapped (linked to an object
that is not in the package, or without a basis) is warning RIGHTS-W001 and left out.

What a sender's link names (PREMIS 3.0 4.1.8 linkingObjectIdentifier): preserve's own types
(`preserve package id`, `preserve logical path`); the identifier of one of the sender's file
objects (Archivematica: the file's UUID, its PREMIS object linked from the fileSec), which is
that payload file; the METS OBJID or an intellectual entity identifier, which is the package.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from preserve.findings import finding
from preserve.ingest.history import SenderHistory
from preserve.metadata.rights import (
    PACKAGE,
    RIGHTS_CSV_PATH,
    RightsStatement,
    read_rights_csv,
    rights_from_bag_info,
)
from preserve.metadata.rights_import import (
    PACKAGE_LINK,
    PATH_LINK,
    Locate,
    SenderStatement,
    resolve_statements,
    statements_in,
)
from preserve.model import Finding

log = logging.getLogger(__name__)

METS_PATH = "metadata/mets.xml"
EARK_PREMIS_PATH = "metadata/preservation/premis.xml"  # an E-ARK package's (CSIP)
#: The tag files statements are read from (the caller hands their bytes over).
RIGHTS_SOURCES = (METS_PATH, EARK_PREMIS_PATH, RIGHTS_CSV_PATH)
MAX_RIGHTS_CSV = 16 * 2**20


def deposit_rights(files: dict[str, bytes], bag_info: Sequence[tuple[str, str]],
                   payload_paths: set[str], findings: list[Finding],
                   sender: SenderHistory | None = None) -> list[RightsStatement]:
    """The deposit's statements (module docstring); CSV problems and unmapped sender
    statements are added to `findings`. `sender` is the history import's reading of the
    sender's METS; without one (none, or not readable as METS) the tag files are read."""
    found: list[RightsStatement] = []
    if sender is not None:
        found += _kept(list(sender.record.rights), _sender_locate(sender, payload_paths),
                       sender.path, findings)
    else:
        for path in (METS_PATH, EARK_PREMIS_PATH):
            if path not in files:
                continue
            try:
                statements = statements_in(files[path])
            except ValueError as exc:  # the sender's METS is reported by history import
                log.debug("no rights read from the deposit's %s: %s", path, exc)
                continue
            found += _kept(statements, _locate({}, set(), payload_paths), path, findings)
    found += rights_from_bag_info(bag_info)
    if RIGHTS_CSV_PATH in files:
        statements_csv, problems = read_rights_csv(files[RIGHTS_CSV_PATH], RIGHTS_CSV_PATH,
                                                   payload_paths)
        found += statements_csv
        findings += problems
    return found


def _kept(statements: list[SenderStatement], locate: Locate, path: str,
          findings: list[Finding]) -> list[RightsStatement]:
    kept, unmapped = resolve_statements(statements, locate)
    for sender, why in unmapped:
        statement = sender.statement
        findings.append(finding("RIGHTS-W001", path, file=path,
                                identifier=statement.identifier or "(no identifier)",
                                basis=statement.basis, why=why))
    return kept


def _sender_locate(sender: SenderHistory, payload_paths: set[str]) -> Locate:
    """Links resolved through the sender's file objects and the package's identifiers."""
    objects = {identifier: "data/" + path for path, about in sender.payload_files().items()
               for identifier in about.identifiers}
    package = {value for _kind, value in sender.record.entity_identifiers}
    if sender.record.objid:
        package.add(sender.record.objid)
    return _locate(objects, package, payload_paths)


def _locate(objects: Mapping[str, str], package: set[str], payload_paths: set[str]) -> Locate:
    def locate(kind: str, value: str) -> str | None:
        if kind == PACKAGE_LINK:
            return PACKAGE
        if kind == PATH_LINK:
            return value if value in payload_paths else None
        where = objects.get(value)
        if where is not None:
            return where if where in payload_paths else None
        return PACKAGE if value in package else None
    return locate
