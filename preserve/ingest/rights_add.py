"""`preserve rights ID --add rights.csv`: statements added to a package's as a new
metadata-only version with a PREMIS `metadata modification` event (issue 16 §1;
docs/rights.md), made by the describe machinery (preserve.ingest.describe): the payload is
declared by digest, the description kept, the CSV kept at `metadata/rights/<name>`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.catalog import Catalog
from preserve.errors import DepositRejected
from preserve.findings import finding
from preserve.home import Home
from preserve.ingest.describe import RIGHTS_KIND, describe_package
from preserve.ingest.stored import stored_rights
from preserve.ingest.supplied import GivenMetadata, SuppliedMetadata
from preserve.metadata import SchemaSet
from preserve.metadata.rights import RightsStatement, read_rights_csv
from preserve.names import portable_name
from preserve.safeio import read_regular

MAX_RIGHTS_CSV = 16 * 2**20
RIGHTS_DIR = "metadata/rights"


@dataclass(frozen=True, slots=True)
class RightsAdded:
    package_id: str
    version: int
    added: tuple[RightsStatement, ...]
    statements: int  # in the new version, carried and added

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version,
                "statements": self.statements, "payload_copied_bytes": 0,
                "added": [s.as_dict() for s in self.added]}


def add_rights(home: Home, catalog: Catalog, reference: str, csv_path: Path,
               schemas: SchemaSet | None, schemas_required: bool = False) -> RightsAdded:
    """Add the statements of `csv_path` to the package's as a new metadata-only version; a
    bad row (RIGHTS-E00x) refuses it with nothing written."""
    package_id = catalog.resolve_package(reference)
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
    given = GivenMetadata(name=f"{RIGHTS_DIR}/{portable_name(csv_path.name)}", kind=RIGHTS_KIND,
                          data=data, supplied=SuppliedMetadata())
    result = describe_package(home, catalog, package_id, csv_path, schemas=schemas,
                              schemas_required=schemas_required, given=given,
                              rights=(*earlier, *added))
    return RightsAdded(package_id, result.version, tuple(added), len(earlier) + len(added))
