"""Self-repair: a damaged or missing copy is restored from another location (issue 13, item 5).

What needs repair is what the catalog marks `damaged` or `missing` (audits, `check` and
replication mark copies). For each such copy, grouped by content file (versions share
unchanged content, so one file is repaired once for every version that holds it):

1. A source is chosen among the other locations whose copy the catalog holds as `ok`, in the
   configured order, and it must verify NOW: it is re-read and its size, sha256 and sha512
   compared with the catalog before anything is written. A catalog entry is not proof.
2. The bytes at the damaged location, if any, are copied to `quarantine/repair-<time>/
   <location>/<path>` with a JSON note first: evidence is never destroyed (STYLE.md: never
   delete on a fixity failure).
3. `replica.restore_file` streams the good copy to the target, verifying the source on the
   way (a source that changes mid-copy overwrites nothing) and the target by reading it back.
4. The copies become `ok` (checked now) with a PREMIS `replication` event naming the file,
   where it came from and where it went, in one catalog transaction.

Then the OCFL inventories of the packages in scope are checked at every location holding them
and restored the same way (`inventories.py`).

When no location holds a copy that verifies, nothing is overwritten and the copy is reported
as unrepairable (exit 12): the archive must find a good copy elsewhere (another archive, a
backup) — the report says which file and which digests it must have.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.catalog import Catalog
from preserve.catalog.copies import CopyToRepair
from preserve.errors import ExitCode, PreserveError
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.repair.inventories import repair_inventories, repair_stamp
from preserve.storage import layout, replica
from preserve.storage.evidence import keep_copy
from preserve.storage.location import Location

log = logging.getLogger(__name__)

AGENT = software_agent()
NOTE_SUFFIX = ".repair.json"


@dataclass(frozen=True, slots=True)
class Repaired:
    package_id: str
    content_path: str
    location: str
    source: str
    was: str  # damaged / missing
    quarantined: str | None
    copies: int

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "content_path": self.content_path,
                "location": self.location, "source": self.source, "was": self.was,
                "quarantined": self.quarantined, "copies": self.copies}


@dataclass(frozen=True, slots=True)
class Unrepaired:
    package_id: str
    content_path: str
    location: str
    reason: str
    sha512: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "content_path": self.content_path,
                "location": self.location, "reason": self.reason, "sha512": self.sha512,
                "size": self.size}


@dataclass
class RepairReport:
    repaired: list[Repaired] = field(default_factory=list)
    unrepaired: list[Unrepaired] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return ExitCode.FIXITY_FAILURE if self.unrepaired else ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        return {"repaired": [r.as_dict() for r in self.repaired],
                "unrepaired": [u.as_dict() for u in self.unrepaired]}


def planned(catalog: Catalog, *, package_id: str | None = None,
            location: str | None = None) -> list[list[CopyToRepair]]:
    """The damaged or missing copies, one group per content file per location."""
    groups: dict[tuple[str, str, str], list[CopyToRepair]] = {}
    for copy in catalog.copies_to_repair(package_id, location):
        groups.setdefault((copy.package_id, copy.location, copy.content_path), []).append(copy)
    return list(groups.values())


def repair_copies(catalog: Catalog, locations: Sequence[Location], quarantine_dir: Path, *,
                  package_id: str | None = None, location: str | None = None,
                  inventories_of: Iterable[str] = (),
                  clock: Callable[[], dt.datetime] = utc_now) -> RepairReport:
    """Restore every damaged or missing copy (of one package / at one location) that a
    location holding a good copy can restore; see the module docstring. Then the OCFL
    inventories (`repair/inventories.py`) of every package that had a copy repaired or
    unrepaired, of `package_id`, and of `inventories_of` (those an audit found wanting)."""
    report = RepairReport()
    by_name = {loc.name: loc for loc in locations}
    stamp = repair_stamp(clock())
    groups = planned(catalog, package_id=package_id, location=location)
    scope = {group[0].package_id for group in groups} | set(inventories_of)
    if package_id is not None:
        scope.add(package_id)
    for group in groups:
        first = group[0]
        path = f"{layout.object_path_for(first.package_id)}/{first.content_path}"
        target = by_name.get(first.location)
        if target is None:
            report.unrepaired.append(_unrepaired(first, "the location is no longer configured"))
            continue
        source, tried = _good_source(catalog, by_name, first, path)
        if source is None:
            reason = ("no other location holds a copy that verifies now"
                      + (f" (tried {'; '.join(tried)})" if tried else " (no other location "
                         "holds a copy)") + "; nothing was overwritten")
            report.unrepaired.append(_unrepaired(first, reason))
            continue
        try:
            kept = _quarantine(target, path, quarantine_dir / f"repair-{stamp}", first, clock())
            replica.restore_file(source, target, path, first.sha512, first.size)
        except (PreserveError, OSError) as error:
            message = error.message if isinstance(error, PreserveError) else str(error)
            report.unrepaired.append(_unrepaired(first, f"restoring it failed: {message}"))
            continue
        now = clock()
        event = Event(
            type=EventType.REPLICATION, outcome=EventOutcome.SUCCESS, time=now, agent=AGENT,
            package_id=first.package_id, object_paths=(first.content_path,),
            detail=(f"repair by {SOFTWARE_NAME} {__version__}: {first.content_path} restored at "
                    f"location {target.name!r} ({first.status}) from location {source.name!r}"),
            outcome_detail=(f"the source verified at repair time and the restored copy read back "
                            f"with sha512 {first.sha512}"
                            + (f"; the damaged bytes were kept in {kept}" if kept else "")))
        count = catalog.set_copy_status([c.file_id for c in group], target.name, "ok", now,
                                        [event])
        report.repaired.append(Repaired(first.package_id, first.content_path, target.name,
                                        source.name, first.status, str(kept) if kept else None,
                                        count))
    fixed, not_fixed = repair_inventories(catalog, locations, scope, quarantine_dir,
                                          location=location, stamp=stamp,
                                          clock=clock)
    report.repaired += [Repaired(f.package_id, f.path, f.location, f.source, f.was,
                                 f.quarantined, 0) for f in fixed]
    report.unrepaired += [Unrepaired(n.package_id, n.path, n.location, n.reason, n.sha512, 0)
                          for n in not_fixed]
    return report


def _good_source(catalog: Catalog, by_name: dict[str, Location], copy: CopyToRepair,
                 path: str) -> tuple[Location | None, list[str]]:
    tried = []
    for name in catalog.ok_locations(copy.file_id):
        if name == copy.location or name not in by_name:
            continue
        try:
            size, sha256, sha512 = replica.hash_stored(by_name[name], path)
        except PreserveError as error:
            tried.append(f"{name}: {error.message}")
            continue
        if (size, sha256, sha512) == (copy.size, copy.sha256, copy.sha512):
            return by_name[name], tried
        tried.append(f"{name}: does not verify ({size} bytes, sha512 {sha512[:16]}…)")
    return None, tried


def _quarantine(target: Location, path: str, directory: Path, copy: CopyToRepair,
                time: dt.datetime) -> Path | None:
    """Keep the bytes about to be replaced (if any) with a note; None when there are none."""
    if target.size(path) is None:
        return None
    note = {"package_id": copy.package_id, "content_path": copy.content_path,
            "status": copy.status, "expected_sha512": copy.sha512,
            "expected_size": copy.size, "time": time.isoformat(),
            "reason": "replaced by preserve repair with a copy verified good"}
    return keep_copy(target, path, directory.joinpath(target.name, *path.split("/")), note,
                     NOTE_SUFFIX)


def _unrepaired(copy: CopyToRepair, reason: str) -> Unrepaired:
    return Unrepaired(copy.package_id, copy.content_path, copy.location, reason, copy.sha512,
                      copy.size)
