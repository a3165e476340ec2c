"""`preserve rights ID --add rights.csv`: statements added to a package's as a new
metadata-only version with a PREMIS `metadata modification` event (issue 16 §1;
docs/rights.md), through the describe machinery (preserve.ingest.describe)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.catalog import Catalog
from preserve.errors import DepositRejected
from preserve.findings import finding
from preserve.home import Home
from preserve.ingest.describe import NewVersionParts, store_metadata_version
from preserve.ingest.stored import stored_rights
from preserve.metadata import SchemaSet
from preserve.metadata.rights import RightsStatement, read_rights_csv
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.names import portable_name
from preserve.safeio import read_regular

MAX_RIGHTS_CSV = 16 * 2**20


@dataclass(frozen=True, slots=True)
class RightsAdded:
    package_id: str
    version: int
    previous: int
    added: tuple[RightsStatement, ...]
    statements: int  # in the new version, carried and added

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version,
                "previous_version": self.previous, "statements": self.statements,
                "added": [s.as_dict() for s in self.added]}


def add_rights(home: Home, catalog: Catalog, reference: str, csv_path: Path,
               schemas: SchemaSet | None, when: dt.datetime | None = None) -> RightsAdded:
    """Add the statements of `csv_path` to the package's as a new metadata-only version
    with a PREMIS `metadata modification` event; a bad row refuses it, nothing written."""
    package_id = catalog.resolve_package(reference)
    created = when or utc_now()
    shown = str(csv_path)
    try:
        data = read_regular(csv_path, MAX_RIGHTS_CSV)
    except OSError as exc:
        raise DepositRejected(path=shown, findings=(finding(
            "RIGHTS-E001", shown, file=shown, why=exc.strerror or str(exc)),)) from None
    detail = catalog.get_package(package_id)
    payload = {f.path for f in detail.files_of(detail.head) if f.path.startswith("data/")}
    added, problems = read_rights_csv(data, shown, payload)
    if not added and not problems:
        problems.append(finding("RIGHTS-E001", shown, file=shown, why="it has no statement row"))
    if problems:
        raise DepositRejected(path=shown, findings=tuple(problems))
    earlier = stored_rights(home, package_id) or []
    event = Event(type=EventType.METADATA_MODIFICATION, outcome=EventOutcome.SUCCESS,
                  time=created, agent=software_agent(), identifier=str(uuid.uuid4()),
                  package_id=package_id,
                  detail=f"{len(added)} rights statement(s) added from {csv_path.name}; "
                         "payload unchanged, referenced by digest",
                  outcome_detail=f"{len(earlier) + len(added)} rights statements in the METS")
    parts = NewVersionParts(descriptive=None, mods=None,
                            extra={f"metadata/rights/{portable_name(csv_path.name)}": data},
                            event=event, title=None, rights=(*earlier, *added))
    version, previous, _title = store_metadata_version(
        home, catalog, package_id, parts, source=str(csv_path.absolute()), schemas=schemas,
        created=created)
    return RightsAdded(package_id, version, previous, tuple(added), len(earlier) + len(added))
