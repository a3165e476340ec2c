"""Export from a healthy copy when the home's own copy is damaged or unreachable (issue 13).

An export reads the package from the `local` root. When the catalog marks any of the
package's copies there damaged or missing, or its inventory cannot be read there, the export
reads from another location that holds the package completely and `ok` instead — straight
from that location (a disk or a bucket), through the same `Location` interface: the export
verifies the inventories against their sidecars and the digests pinned at ingest, and every
payload byte against the catalog's sha256 and sha512 as it streams, wherever it comes from.
Nothing is copied twice and nothing is written to any location.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from preserve.catalog import Catalog
from preserve.errors import FixityError, PreserveError
from preserve.storage import inventory as inv
from preserve.storage.layout import object_path_for
from preserve.storage.location import Location

log = logging.getLogger(__name__)

PRIMARY = "local"


def readable_location(catalog: Catalog, locations: Sequence[Location], package_id: str, *,
                      avoid_local: bool = False) -> Location:
    """The location to export `package_id` from: the local root when its copy is whole,
    else the first other location, in configuration order, holding a complete verified copy.

    `avoid_local`: the local copy failed while it was exported (damage the catalog did not
    know of yet): take another location's. FixityError (exit 12) when none is left."""
    local = next(location for location in locations if location.name == PRIMARY)
    state = {s.package_id: s for s in catalog.package_copies([package_id])}.get(package_id)
    complete = state.complete_at() if state is not None else []
    others = [location for location in locations
              if location.name != PRIMARY and location.name in complete]
    if not others:
        # Nowhere else to go: the export reads the local copy and reports what it finds
        # there (damage, exit 12, or an unreadable disk, exit 13) in its own words.
        return local
    if not avoid_local and PRIMARY in complete and _readable(local, package_id):
        return local
    errors = []
    for location in others:
        try:
            inv.read(location, object_path_for(package_id))
        except PreserveError as error:
            errors.append(f"{location.name}: {error.message}")
            continue
        log.warning("the local copy of %s is damaged or unreadable; exporting from location %s",
                    package_id, location.name)
        return location
    raise FixityError(detail=(
        f"the local copy of {package_id} is damaged or missing and no other location holds a "
        "complete verified copy" + (f" ({'; '.join(errors)})" if errors else "")
        + "; nothing was exported. Run `preserve audit` and `preserve repair`"))


def _readable(location: Location, package_id: str) -> bool:
    try:
        inv.read(location, object_path_for(package_id))
        return True
    except PreserveError:
        return False
