"""Self-repair of OCFL inventories: a damaged, missing or rewritten inventory at one location
is restored from another location whose copy is proven good (issue 13, item 5).

An object's inventories are its map: the root `inventory.json` (the head version's) and each
`vN/inventory.json`, each with its sidecar (OCFL 1.1 sections 3.5, 3.5.6). The catalog pinned
the sha512 of every version's inventory when the version was stored (issue 18), so "good" is
not a vote between copies: an inventory is good where it verifies against its sidecar AND its
sha512 is the pinned one (the root's is the head version's). For versions stored before the
pins (no digest recorded), its sidecar alone is the test, and every copy that verifies must
agree.

For each inventory that is not good at a location holding the package:

1. a source is chosen among the other locations, in the configured order, whose inventory is
   good when read now;
2. the bytes about to be replaced, if any, are kept in `quarantine/repair-<time>/<location>/`
   with a note (evidence is never destroyed);
3. the inventory and then its sidecar are written (each write atomic), read back and verified
   again against the pin;
4. a PREMIS `replication` event names the file, where it came from and where it went.

No good source: nothing is overwritten, and the report says so (exit 12).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from preserve import SOFTWARE_NAME, __version__
from preserve.catalog import Catalog
from preserve.errors import PreserveError, StorageError
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage import inventory as inv
from preserve.storage.evidence import keep_copy
from preserve.storage.layout import object_path_for
from preserve.storage.location import Location
from preserve.storage.objects import MISSING, InventoryCheck, inspect_inventory, inventory_files

log = logging.getLogger(__name__)

AGENT = software_agent()
NOTE_SUFFIX = ".repair.json"


def repair_stamp(time: dt.datetime) -> str:
    """The name part of one repair run's quarantine folder, `quarantine/repair-<stamp>/`."""
    return time.strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True, slots=True)
class InventoryFix:
    """One inventory restored at `location` from `source` (`was`: missing or damaged)."""

    package_id: str
    path: str  # relative to the object root: inventory.json or vN/inventory.json
    location: str
    source: str
    was: str
    quarantined: str | None


@dataclass(frozen=True, slots=True)
class InventoryNotFixed:
    package_id: str
    path: str
    location: str
    reason: str
    sha512: str  # what a good copy hashes to ("" when no digest was pinned)


def repair_inventories(catalog: Catalog, locations: Sequence[Location],
                       package_ids: Iterable[str], quarantine_dir: Path, *,
                       location: str | None = None, stamp: str | None = None,
                       clock: Callable[[], dt.datetime] = utc_now
                       ) -> tuple[list[InventoryFix], list[InventoryNotFixed]]:
    """Restore every inventory of `package_ids` that is not good at a location holding the
    package (only at `location` when given); see the module docstring. `stamp` names the
    run's quarantine folder (`repair-<stamp>`), shared with the content repair of the same
    run; a new one from `clock` when not given."""
    fixed: list[InventoryFix] = []
    not_fixed: list[InventoryNotFixed] = []
    stamp = stamp or repair_stamp(clock())
    for package_id in sorted(set(package_ids)):
        holders = _holders(catalog, locations, package_id)
        base = object_path_for(package_id)
        for relative, pinned in inventory_files(catalog.inventory_digests(package_id)):
            directory = f"{base}/{relative}" if relative else base
            name = f"{relative}/{inv.INVENTORY}" if relative else inv.INVENTORY
            checks = {loc.name: inspect_inventory(loc, directory, pinned) for loc in holders}
            bad = {name: check.trouble for name, check in checks.items()
                   if check.trouble is not None}
            targets = [loc for loc in holders if loc.name in bad
                       and location in (None, loc.name)]
            if not targets:
                continue
            good = _good_copy(holders, checks, pinned)
            for target in targets:
                if good is None:
                    not_fixed.append(InventoryNotFixed(
                        package_id, name, target.name,
                        f"{bad[target.name][1]}; no other location holds a copy that verifies "
                        "now; nothing was overwritten", pinned or ""))
                    continue
                source, copy = good
                try:
                    kept = _restore(target, directory, copy, quarantine_dir
                                    / f"repair-{stamp}", package_id, bad[target.name][1],
                                    clock())
                except (PreserveError, OSError) as error:
                    reason = error.message if isinstance(error, PreserveError) else str(error)
                    not_fixed.append(InventoryNotFixed(package_id, name, target.name,
                                                       f"restoring it failed: {reason}",
                                                       pinned or ""))
                    continue
                was = "missing" if bad[target.name][0] == MISSING else "damaged"
                catalog.append_events([Event(
                    type=EventType.REPLICATION, outcome=EventOutcome.SUCCESS, time=clock(),
                    agent=AGENT, package_id=package_id, object_paths=(name,),
                    detail=(f"repair by {SOFTWARE_NAME} {__version__}: the OCFL inventory {name} "
                            f"restored at location {target.name!r} ({was}) from location "
                            f"{source.name!r}"),
                    outcome_detail=("the source verified against its sidecar"
                                    + (" and the digest recorded at ingest" if pinned else "")
                                    + f"; the restored copy read back with sha512 {copy.digest}"
                                    + (f"; the replaced bytes were kept in {kept}"
                                       if kept else "")))])
                fixed.append(InventoryFix(package_id, name, target.name, source.name, was,
                                          str(kept) if kept else None))
    return fixed, not_fixed


def _holders(catalog: Catalog, locations: Sequence[Location],
             package_id: str) -> list[Location]:
    """The configured locations that hold (some copies of) the package, in configured order."""
    names: set[str] = set()
    for state in catalog.package_copies([package_id]):
        names.update(name for name, count in state.ok.items() if count)
    names.update(c.location for c in catalog.copies_to_repair(package_id))
    return [loc for loc in locations if loc.name in names]


def _good_copy(holders: Sequence[Location], checks: dict[str, InventoryCheck],
               pinned: str | None) -> tuple[Location, InventoryCheck] | None:
    """The first location whose inventory verified, with the bytes that were checked. Without
    a pin, the locations that verify must all hold the same inventory."""
    found = [(source, checks[source.name]) for source in holders
             if checks[source.name].trouble is None]
    if pinned is not None:
        found = [(source, check) for source, check in found if check.digest == pinned][:1]
    if not found or len({check.digest for _source, check in found}) > 1:
        return None  # without a pin, copies that disagree prove nothing
    return found[0]


def _restore(target: Location, directory: str, good: InventoryCheck, quarantine: Path,
             package_id: str, why: str, now: dt.datetime) -> Path | None:
    """Keep what is there, write the inventory then its sidecar, verify by reading back."""
    kept: Path | None = None
    for name in (inv.INVENTORY, inv.SIDECAR):
        path = f"{directory}/{name}"
        if target.size(path) is not None:
            note = {"package_id": package_id, "reason": f"replaced by preserve repair: {why}",
                    "expected_sha512": good.digest if name == inv.INVENTORY else "",
                    "time": now.isoformat()}
            copy = keep_copy(target, path, quarantine.joinpath(target.name, *path.split("/")),
                             note, NOTE_SUFFIX)
            kept = kept or copy
    for name, data in ((inv.INVENTORY, good.data), (inv.SIDECAR, good.sidecar)):
        target.write(f"{directory}/{name}", io.BytesIO(data), len(data))
    _inventory, digest = inv.read(target, directory)
    if digest != good.digest:
        raise StorageError(detail=f"the inventory written to {target.name}:{directory} read "
                           f"back with sha512 {digest}, not {good.digest}; check the location")
    log.info("restored %s/%s at %s", directory, inv.INVENTORY, target.name)
    return kept
