"""Reading back what ingest stored: the METS of a package version (DESIGN.md, "Storage").

Storage is the truth for content, so the METS is read from the OCFL object itself, not from
the catalog: the version's inventory `state` names the content of `metadata/mets.xml`, the
`manifest` where that content lies (OCFL 1.1 sections 3.5.3, 3.5.3.1). The bytes are checked
against the inventory's sha512 before they are handed out: a damaged METS is a fixity
failure, never shown as if it were the record.
"""

from __future__ import annotations

import logging

from preserve.errors import PackageNotFound, PreserveError, StorageError
from preserve.home import Home
from preserve.metadata.descriptive import mets_titles
from preserve.metadata.history import MetsRecord, read_record
from preserve.metadata.rights import RightsStatement
from preserve.metadata.rights_import import read_rights
from preserve.storage import StorageRoot, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.local import LocalLocation
from preserve.storage.objects import read_logical

log = logging.getLogger(__name__)

METS_PATH = "metadata/mets.xml"
#: The largest METS read back (a 20,000-file package has a METS of about 40 MB).
MAX_METS_BYTES = 2**31


def stored_mets(home: Home, package_id: str, version: int | None = None) -> tuple[int, bytes]:
    """(version number, METS bytes) of `version` of the package (default: the head)."""
    storage = StorageRoot.open(home.ocfl)  # a clear error when the home holds no storage root
    location = LocalLocation("local", storage.path)
    base = object_path_for(package_id)
    if not location.exists(f"{base}/{inv.OBJECT_NAMASTE}"):
        raise PackageNotFound(package_id=package_id)
    inventory, _digest = inv.read(location, base)
    if inventory.id != package_id:
        raise StorageError(detail=f"{base}/{inv.INVENTORY} belongs to {inventory.id!r}, not "
                           f"{package_id!r}; the object is misplaced")
    numbers = sorted(inventory.states)
    number = numbers[-1] if version is None else version
    name = inv.version_name(number)
    if number not in inventory.states:
        raise StorageError(detail=f"package {package_id} has no version {name}; it has "
                           + ", ".join(inv.version_name(n) for n in numbers))
    data = read_logical(location, base, inventory, number, METS_PATH, MAX_METS_BYTES)
    if data is None:
        raise StorageError(detail=f"version {name} of package {package_id} has no {METS_PATH} "
                           "(it was stored before preserve wrote METS)")
    log.debug("read %s of %s %s (%d bytes)", METS_PATH, package_id, name, len(data))
    return number, data


def stored_titles(home: Home, package_id: str) -> list[tuple[str, str]]:
    """(title, BCP 47 tag or "") of every title in the head version's METS, in its order.

    The catalog keeps one title; the METS keeps all of them with their `xml:lang`. A METS
    that cannot be read gives [] (and a warning): showing a package must not depend on it,
    and the audit is what reports damage.
    """
    try:
        _number, document = stored_mets(home, package_id)
        return mets_titles(document)
    except (PreserveError, ValueError) as exc:  # lxml's XMLSyntaxError is a ValueError
        log.warning("titles of %s not read from its METS: %s", package_id, exc)
        return []


def stored_description(home: Home, package_id: str) -> MetsRecord | None:
    """The head version's METS read back (`metadata.history.read_record`): its Dublin Core
    record in every language and the PRONOM formats with their names. None (and a warning)
    when it cannot be read: showing a package must not depend on it; the audit reports
    damage."""
    try:
        _number, document = stored_mets(home, package_id)
        return read_record(document)
    except (PreserveError, ValueError) as exc:  # UnreadableDocument is a ValueError
        log.warning("the METS of %s was not read: %s", package_id, exc)
        return None


def stored_rights(home: Home, package_id: str) -> list[RightsStatement] | None:
    """The PREMIS rights statements of the head version's METS (issue 16 §1); None (and a
    warning) when it cannot be read."""
    try:
        _number, document = stored_mets(home, package_id)
        return read_rights(document)
    except (PreserveError, ValueError) as exc:
        log.warning("the rights of %s were not read from its METS: %s", package_id, exc)
        return None
