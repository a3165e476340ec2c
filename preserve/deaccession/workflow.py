"""Deaccession with approval (issue 16 §2; PREMIS 3.0 eventType `deaccession`, LoC vocabulary).

1. `request`: a person asks, with a reason, for a package to be removed. Refused (DEA-E001..)
   for an unknown package, one already deaccessioned, one with a request open, or a single
   version (OCFL 1.1 section 3.3: versions are immutable, a version cannot be deleted).
2. `approve` by a DIFFERENT person (DEA-E004 otherwise) or `reject` (with a note).
3. The removal, in three steps that a kill at any point leaves recoverable:
   a. one catalog transaction: the request becomes `approved` and keeps the package's final
      METS (the intent record: from here on the package is going; nothing is removed yet);
   b. the object is removed from every configured location (local, S3), whatever copy rows
      say, since a stray or unrecorded copy must go too; removing what is gone is a no-op;
   c. one catalog transaction: the copy rows go, the package becomes `deaccessioned`, the
      request `completed` and the PREMIS `deaccession` event (naming requester, approver,
      reason and the locations emptied) is appended to the hash-chained log.
   A kill between a and c leaves an `approved` request: `preserve check` reports it
   (CHK-E016) and `check --repair` runs b and c again (`complete`).
The tombstone is everything else: package, version, file and identifier rows, every event,
and the final METS in the request row (docs/deaccession.md says why not in the storage root).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

from preserve.catalog import Catalog, DeaccessionView
from preserve.errors import ExitCode, PreserveError, StorageError
from preserve.findings import finding
from preserve.model import (
    Agent,
    Event,
    EventOutcome,
    EventType,
    Finding,
    acting_person,
    person_agent,
    software_agent,
    utc_now,
)
from preserve.storage import inventory as inv
from preserve.storage.layout import object_path_for
from preserve.storage.location import Location, LocationError
from preserve.storage.objects import read_logical
from preserve.storage.staging import commit_lock

log = logging.getLogger(__name__)

METS_PATH = "metadata/mets.xml"
_MAX_METS_BYTES = 256 * 1024 * 1024


class DeaccessionRefused(PreserveError):
    """{message}"""

    exit_code = ExitCode.USAGE

    def __init__(self, found: Finding) -> None:
        super().__init__(message=f"{found.code}: {found.message}")
        self.finding = found


def _person(name: str) -> Agent:
    """The person who decided, as the event's person (issue 15): the acting one when it is
    them, else their operating-system login (a removal finished by `check --repair`)."""
    acting = acting_person()
    if acting is not None and acting.name == name:
        return acting
    return person_agent(name, kind="os-user")


def request(catalog: Catalog, package_id: str, *, reason: str, person: str,
            version: int | None = None,
            clock: Callable[[], dt.datetime] = utc_now) -> DeaccessionView:
    """Record a request to deaccession `package_id` (see the module docstring)."""
    if version is not None:
        raise DeaccessionRefused(finding("DEA-E005", "", package_id=package_id, version=version))
    if not reason.strip():
        raise DeaccessionRefused(finding("DEA-E006", "", package_id=package_id))
    state = catalog.package_state(package_id)
    if state is None:
        raise DeaccessionRefused(finding("DEA-E001", "", package_id=package_id))
    if state == "deaccessioned":
        raise DeaccessionRefused(finding("DEA-E002", "", package_id=package_id))
    pending = catalog.deaccession_requests(package_id, states=("requested", "approved"))
    if pending:
        raise DeaccessionRefused(finding("DEA-E003", "", package_id=package_id,
                                         request=pending[0].id))
    return catalog.add_deaccession_request(package_id=package_id, reason=reason, person=person,
                                           at=clock())


def _waiting(catalog: Catalog, request_id: int) -> DeaccessionView:
    view = catalog.deaccession_request(request_id)
    if view is None:
        raise DeaccessionRefused(finding("DEA-E007", "", request=request_id))
    if view.state != "requested":
        raise DeaccessionRefused(finding("DEA-E008", "", request=request_id, state=view.state))
    return view


def reject(catalog: Catalog, request_id: int, *, person: str, note: str,
           clock: Callable[[], dt.datetime] = utc_now) -> DeaccessionView:
    """Reject a waiting request: nothing else changes (the package stays as it is)."""
    _waiting(catalog, request_id)
    return catalog.decide_deaccession(request_id, state="rejected", person=person,
                                      at=clock(), note=note, final_mets=None)


def approve(catalog: Catalog, request_id: int, locations: Sequence[Location], *, person: str,
            note: str | None = None, lock: Path | None = None,
            clock: Callable[[], dt.datetime] = utc_now) -> DeaccessionView:
    """Approve a request made by someone else, then remove the package everywhere.

    `lock` is the home's commit lock file: held throughout, so no ingest or describe adds a
    version to the package while its final METS is read and its copies removed."""
    view = _waiting(catalog, request_id)
    if view.requested_by == person:
        raise DeaccessionRefused(finding("DEA-E004", "", request=request_id, person=person))
    with commit_lock(lock) if lock is not None else nullcontext():
        mets = final_mets(view.package_id, locations)
        catalog.decide_deaccession(request_id, state="approved", person=person, at=clock(),
                                   note=note, final_mets=mets)
        return complete(catalog, request_id, locations, clock=clock)


def final_mets(package_id: str, locations: Sequence[Location]) -> bytes:
    """The head version's METS, from the first location that holds it intact."""
    base = object_path_for(package_id)
    problems = []
    for location in locations:
        try:
            inventory, _digest = inv.read(location, base)
            data = read_logical(location, base, inventory, inventory.head, METS_PATH,
                                _MAX_METS_BYTES)
        except (PreserveError, LocationError) as exc:
            problems.append(f"{location.name}: {exc.message}")
            continue
        if data is not None:
            return data
        problems.append(f"{location.name}: the head version has no {METS_PATH}")
    raise StorageError(detail=f"the final METS of {package_id} could not be read from any "
                       f"location ({'; '.join(problems) or 'none configured'}); nothing was "
                       "removed: run `preserve audit` and `preserve repair`, then approve again")


def complete(catalog: Catalog, request_id: int, locations: Sequence[Location], *,
             clock: Callable[[], dt.datetime] = utc_now) -> DeaccessionView:
    """Steps b and c of the module docstring for an `approved` request (also what
    `check --repair` runs after a kill). Idempotent: an emptied location stays empty."""
    view = catalog.deaccession_request(request_id)
    if view is None or view.state != "approved":
        raise DeaccessionRefused(finding("DEA-E007", "", request=request_id))
    prefix = object_path_for(view.package_id) + "/"
    emptied = []
    for location in locations:
        removed = location.remove_prefix(prefix)
        log.info("deaccession %s: removed %s file(s) of %s from %s", request_id, removed,
                 view.package_id, location.name)
        emptied.append(location.name)
    detail = (f"deaccession request {request_id}: requested by {view.requested_by} "
              f"({view.reason}); approved by {view.decided_by}"
              + (f" ({view.note})" if view.note else "")
              + f"; every copy removed from {', '.join(emptied) or 'no location'}; "
              "the catalog rows, events and final METS are kept as the tombstone")
    event = Event(type=EventType.DEACCESSION, outcome=EventOutcome.SUCCESS, time=clock(),
                  agent=software_agent(), person=_person(view.decided_by or "unknown"),
                  detail=detail,
                  outcome_detail=f"removed from {len(emptied)} location(s)",
                  package_id=view.package_id, identifier=str(uuid.uuid4()))
    return catalog.complete_deaccession(request_id, at=clock(), event=event)
