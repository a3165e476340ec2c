"""Export from a healthy copy when the home's own copy is damaged or unreachable (issue 13).

An export reads the package from the `local` root. When the catalog marks any of the
package's copies there damaged or missing, or the object cannot be read there at all, the
package is first copied from another location that holds it completely and `ok` into a
scratch OCFL root beside storage (`staging/export-<id>/ocfl`), with `replica.copy_object`:
every file is verified against the source inventory's sha512 while it streams and again
after it is written, so what the export then reads is proven. The export itself verifies
every byte against the catalog as always. The scratch root is removed afterwards.

This reads the bytes twice; it is the exceptional path, taken only when the archive's first
copy is damaged, and it keeps the export code one path over a local root.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from preserve.catalog import Catalog
from preserve.errors import FixityError, PreserveError
from preserve.storage import StorageRoot, replica
from preserve.storage.local import LocalLocation
from preserve.storage.location import Location

log = logging.getLogger(__name__)

PRIMARY = "local"


@contextmanager
def readable_storage(catalog: Catalog, storage: StorageRoot, locations: Sequence[Location],
                     package_id: str, scratch: Path, *, avoid_local: bool = False
                     ) -> Iterator[tuple[StorageRoot, str]]:
    """(a storage root holding a verified copy of the package, the location it came from).

    `avoid_local`: the local copy failed while it was exported (damage the catalog did not
    know of yet): take another location's."""
    state = {s.package_id: s for s in catalog.package_copies([package_id])}.get(package_id)
    complete = state.complete_at() if state is not None else []
    local_ok = not avoid_local and PRIMARY in complete and _readable(storage, package_id)
    if local_ok or state is None or (avoid_local and len(complete) <= 1):
        yield storage, PRIMARY
        return
    errors = []
    for location in locations:
        if location.name == PRIMARY or location.name not in complete:
            continue
        target = scratch / "ocfl"
        try:
            target.mkdir(parents=True, exist_ok=False)
            copy = LocalLocation(f"{location.name}-export-copy", target)
            replica.ensure_root(copy)
            replica.copy_object(location, copy, package_id)
            root = StorageRoot.open(target)
        except PreserveError as error:
            errors.append(f"{location.name}: {error.message}")
            shutil.rmtree(scratch, ignore_errors=True)
            continue
        log.warning("the local copy of %s is damaged or unreadable; exporting from location %s",
                    package_id, location.name)
        try:
            yield root, location.name
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return
    raise FixityError(detail=(
        f"the local copy of {package_id} is damaged or missing and no other location holds a "
        "complete verified copy" + (f" ({'; '.join(errors)})" if errors else "")
        + "; nothing was exported. Run `preserve audit` and `preserve repair`"))


def _readable(storage: StorageRoot, package_id: str) -> bool:
    try:
        storage.read_inventory(package_id)
        return True
    except PreserveError:
        return False
