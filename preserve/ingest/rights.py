"""The rights statements a deposit brings (issue 16 §1; docs/rights.md), and
`preserve rights ID --add FILE` (preserve.ingest.rights_add) adds statements later.

A deposit's statements come from, in this order: the PREMIS rights of the METS it carries
(`metadata/mets.xml`, a package exported by an archive), its bag-info labels
(`Rights-Statement`, `License`, `Access-Restriction`), and `metadata/rights.csv`. A bad row
of the CSV is an error finding (RIGHTS-E00x): the deposit is rejected, nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from preserve.metadata.rights import (
    RIGHTS_CSV_PATH,
    RightsStatement,
    read_rights,
    read_rights_csv,
    rights_from_bag_info,
)
from preserve.model import Finding

log = logging.getLogger(__name__)

METS_PATH = "metadata/mets.xml"
EARK_PREMIS_PATH = "metadata/preservation/premis.xml"  # an E-ARK package's (CSIP)
#: The tag files statements are read from (the caller hands their bytes over).
RIGHTS_SOURCES = (METS_PATH, EARK_PREMIS_PATH, RIGHTS_CSV_PATH)
MAX_RIGHTS_CSV = 16 * 2**20


def deposit_rights(files: dict[str, bytes], bag_info: Sequence[tuple[str, str]],
                   payload_paths: set[str], findings: list[Finding]) -> list[RightsStatement]:
    """The deposit's statements (module docstring); CSV problems are added to `findings`."""
    found: list[RightsStatement] = []
    for sender in (METS_PATH, EARK_PREMIS_PATH):
        if sender not in files:
            continue
        try:
            found += read_rights(files[sender])
        except ValueError as exc:  # the sender's METS is reported by history import
            log.debug("no rights read from the deposit's %s: %s", sender, exc)
    found += rights_from_bag_info(bag_info)
    if RIGHTS_CSV_PATH in files:
        statements, problems = read_rights_csv(files[RIGHTS_CSV_PATH], RIGHTS_CSV_PATH,
                                               payload_paths)
        found += statements
        findings += problems
    return found
