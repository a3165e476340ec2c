"""Bring packages up to `replication.copies` verified copies (issue 13, item 3).

For each package, the locations holding it completely are those where the catalog has an `ok`
copy of every file row. The other locations, in the order the archive configured them (the
home's `local` root first), receive what they lack until the package has enough copies:
`replica.copy_object` copies each missing version from a complete location, hashing every
file while it streams and again after reading it back. Content a killed earlier run left
behind is kept only after it is hashed again here. Nothing counts until it is verified:
the catalog's copy rows and the PREMIS `replication` event (naming the target location and
where it came from) are written together, after the copy, in one transaction.

A failure at one location (unreachable, out of space, a source that does not verify) is
recorded as a failed `replication` event and reported; the other packages and locations go
on. Running again resumes: files already verified at the target are not sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.catalog import Catalog
from preserve.errors import ExitCode, PreserveError
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage import layout, replica
from preserve.storage.location import Location

log = logging.getLogger(__name__)

AGENT = software_agent()


class UnknownLocation(PreserveError):
    """No storage location named {name!r} is configured; `preserve locations` lists them."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class ReplicaMade:
    """One package copied to one location and verified there."""

    package_id: str
    location: str
    source: str
    versions: tuple[int, ...]
    files_copied: int
    bytes_copied: int
    copies_recorded: int

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "location": self.location,
                "source": self.source, "versions": list(self.versions),
                "files_copied": self.files_copied, "bytes_copied": self.bytes_copied,
                "copies_recorded": self.copies_recorded}


@dataclass(frozen=True, slots=True)
class ReplicationFailure:
    package_id: str | None
    location: str
    message: str
    exit_code: int

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "location": self.location,
                "message": self.message, "exit_code": self.exit_code}


@dataclass
class ReplicationReport:
    wanted: int
    made: list[ReplicaMade] = field(default_factory=list)
    failed: list[ReplicationFailure] = field(default_factory=list)
    #: package -> verified copies it has after the run, for those with fewer than wanted
    short: dict[str, int] = field(default_factory=dict)
    packages: int = 0

    @property
    def exit_code(self) -> int:
        if self.failed:
            return max(f.exit_code for f in self.failed)
        return ExitCode.STORAGE if self.short else ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        return {"copies_wanted": self.wanted, "packages": self.packages,
                "made": [m.as_dict() for m in self.made],
                "failed": [f.as_dict() for f in self.failed],
                "short": [{"package_id": p, "copies": n} for p, n in self.short.items()]}


def replicate(catalog: Catalog, locations: Sequence[Location], copies: int, *,
              package_ids: Sequence[str] | None = None, only: str | None = None,
              clock: Callable[[], dt.datetime] = utc_now, workers: int = 8
              ) -> ReplicationReport:
    """Copy packages to `locations` (ordered, the primary first) until each has `copies`
    complete verified copies; with `only`, copy to that location whatever `copies` says."""
    report = ReplicationReport(wanted=copies)
    by_name = {loc.name: loc for loc in locations}
    if only is not None and only not in by_name:
        raise UnknownLocation(name=only)
    prepared: set[str] = set()
    for state in catalog.package_copies(package_ids):
        report.packages += 1
        complete = [name for name in by_name if name in state.complete_at()]
        if only is not None:
            targets = [] if only in complete else [only]
        else:
            missing = [name for name in by_name if name not in complete]
            targets = missing[:max(0, copies - len(complete))]
        for name in targets:
            sources = [by_name[n] for n in complete]
            if not sources:
                report.failed.append(ReplicationFailure(
                    state.package_id, name, "no location holds a complete verified copy to "
                    "copy from: run `preserve audit`, then `preserve repair`",
                    ExitCode.FIXITY_FAILURE))
                break
            made = _replicate_one(catalog, sources[0], by_name[name], state.package_id,
                                  prepared, report, clock, workers)
            if made is not None:
                report.made.append(made)
                complete.append(name)
        if len(complete) < copies and only is None:
            report.short[state.package_id] = len(complete)
    return report


def _replicate_one(catalog: Catalog, source: Location, target: Location, package_id: str,
                   prepared: set[str], report: ReplicationReport,
                   clock: Callable[[], dt.datetime], workers: int) -> ReplicaMade | None:
    base = layout.object_path_for(package_id)
    try:
        if target.name not in prepared:
            catalog.ensure_location(target.name, target.describe())
            replica.ensure_root(target)
            prepared.add(target.name)
        results = replica.copy_object(source, target, package_id, workers=workers)
        verified = {f.path[len(base) + 1:] for r in results for f in r.files}
        # Content the catalog does not count at the target yet and this run did not send
        # (a killed earlier run left it): it counts only once it is hashed again now.
        leftovers = [(path, size, sha512) for path, size, sha512
                     in catalog.contents_lacking(package_id, target.name)
                     if path not in verified]
        verified.update(replica.verify_stored(target, base, leftovers, workers=workers))
    except PreserveError as error:
        _record_failure(catalog, source, target, package_id, error, clock)
        report.failed.append(ReplicationFailure(package_id, target.name, error.message,
                                                int(error.exit_code)))
        return None
    files_copied = sum(r.files_copied for r in results)
    bytes_copied = sum(r.bytes_copied for r in results)
    versions = tuple(r.version for r in results)
    now = clock()
    event = Event(
        type=EventType.REPLICATION, outcome=EventOutcome.SUCCESS, time=now, agent=AGENT,
        package_id=package_id, version=versions[-1] if versions else None,
        detail=(f"copied by {SOFTWARE_NAME} {__version__} from location {source.name!r} to "
                f"location {target.name!r} ({target.describe()})"),
        outcome_detail=(f"{files_copied} file(s), {bytes_copied} bytes sent"
                        + (f" (versions {', '.join(f'v{v}' for v in versions)})" if versions
                           else "") + f"; {len(verified)} content file(s) verified at "
                        f"{target.name!r} by reading them back (sha512)"))
    recorded = catalog.record_replica(package_id, target.name, sorted(verified), now, [event])
    log.info("%s: %d copies recorded at %s", package_id, recorded, target.name)
    return ReplicaMade(package_id, target.name, source.name, versions, files_copied,
                       bytes_copied, recorded)


def _record_failure(catalog: Catalog, source: Location, target: Location, package_id: str,
                    error: PreserveError, clock: Callable[[], dt.datetime]) -> None:
    event = Event(type=EventType.REPLICATION, outcome=EventOutcome.FAILURE, time=clock(),
                  agent=AGENT, package_id=package_id,
                  detail=(f"copy by {SOFTWARE_NAME} {__version__} from location "
                          f"{source.name!r} to location {target.name!r}"),
                  outcome_detail=f"{error.message}; nothing unverified was counted")
    try:
        catalog.append_events([event])
    except PreserveError:  # the catalog failing too: the report still says what happened
        log.exception("could not record the failed replication of %s", package_id)
