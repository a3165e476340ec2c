"""The deferred PRONOM identification of a version (issue 14; `ingest --defer identify`).

A large ingest may leave format identification to a worker: it stores the version without
PRONOM ids (its METS then carries none) and queues `preserve.identify`. The job reads the
version's payload through the storage locations (the local root first, read in place; another
location's copy streamed to a scratch directory when the local one cannot be read), asks
siegfried (`preserve.formats`), and records in ONE catalog transaction the files' `format`
and one PREMIS `format identification` event.

Exactly once: the event's identifier is a UUID derived from the package id and the version
(`event_identifier`), and `Catalog.record_formats` records nothing when the log already has
it — checked under the chain lock. A job killed before that transaction left nothing; one
killed after it finds the event on its retry and returns.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from preserve.catalog.views import FileView
from preserve.errors import StorageError
from preserve.formats.identify import FormatIdentifier, FormatInfo
from preserve.jobs.work import JobEnvironment
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage.layout import object_path_for
from preserve.storage.local import LocalLocation
from preserve.storage.location import Location

log = logging.getLogger(__name__)

#: The namespace of the deterministic identifiers of deferred identification events.
NAMESPACE = uuid.UUID("5b0f8f3e-3f7c-4d0e-9d1e-6c1a2f7b9e41")
#: Bytes copied at a time from a remote location to the scratch directory.
CHUNK = 1 << 20


def event_identifier(package_id: str, version: int) -> str:
    """The PREMIS identifier of the deferred `format identification` event of a version:
    the same on every machine and every retry."""
    return str(uuid.uuid5(NAMESPACE, f"format identification|{package_id}|v{version}"))


def identify_version(env: JobEnvironment, package_id: str, version: int) -> dict[str, Any]:
    """Identify the payload formats of `package_id` v`version`; record them and the event
    once. Returns what was done (`recorded` false when an earlier run had recorded it)."""
    identifier = event_identifier(package_id, version)
    with env.open_catalog() as catalog:
        if catalog.known_event_identifiers([identifier]):
            log.info("%s v%d: formats were identified by an earlier run", package_id, version)
            return {"package_id": package_id, "version": version, "recorded": False}
        detail = catalog.get_package(package_id)
        files = [f for f in detail.files if f.version == version and f.path.startswith("data/")]
        deposit_id = next((v.deposit_id for v in detail.versions if v.number == version), None)
        identifier_tool = FormatIdentifier(workers=1)
        formats = _identify(identifier_tool, env.locations(), package_id, files)
        unknown = sum(1 for info in formats.values() if not info.known)
        puids = len({info.puid for info in formats.values() if info.known})
        event = Event(
            type=EventType.FORMAT_IDENTIFICATION,
            outcome=EventOutcome.WARNING if unknown else EventOutcome.SUCCESS,
            time=utc_now(), agent=software_agent(),
            detail=f"PRONOM identification of {len(formats)} payload files with "
                   f"{identifier_tool.tool}, deferred at ingest and run by a queued job; "
                   f"the METS stored in v{version} carries no PRONOM ids",
            outcome_detail=f"{len(formats) - unknown} identified ({puids} formats), "
                           f"{unknown} not identified",
            package_id=package_id, version=version, deposit_id=deposit_id,
            identifier=identifier)
        recorded = catalog.record_formats(
            package_id, version,
            {path: (info.puid, info.name, info.version) for path, info in formats.items()}, event)
    log.info("%s v%d: identified %d files (%d unknown)%s", package_id, version, len(formats),
             unknown, "" if recorded else "; an earlier run had recorded them")
    return {"package_id": package_id, "version": version, "recorded": recorded,
            "files": len(formats), "unknown": unknown}


def _identify(identifier: FormatIdentifier, locations: Sequence[Location], package_id: str,
              files: Sequence[FileView]) -> dict[str, FormatInfo]:
    """Logical path -> format, from the first location whose copy can be read."""
    if not files:
        return {}
    base = object_path_for(package_id)
    problems = []
    for location in locations:
        try:
            if isinstance(location, LocalLocation):
                paths = {f.path: location.root / base / f.content_path for f in files}
                missing = [p for p in paths.values() if not p.is_file() or p.is_symlink()]
                if missing:
                    raise StorageError(detail=f"{missing[0]} is not a regular file")
                found = identifier.identify_many(list(paths.values()))
                return {logical: found[path] for logical, path in paths.items()}
            return _identify_fetched(identifier, location, base, files)
        except (StorageError, OSError) as error:
            problems.append(f"{location.name}: {getattr(error, 'message', None) or error}")
            log.warning("cannot read %s at %s for identification: %s", package_id,
                        location.name, problems[-1])
    raise StorageError(detail=f"no location could be read to identify {package_id}: "
                       + "; ".join(problems))


def _identify_fetched(identifier: FormatIdentifier, location: Location, base: str,
                      files: Sequence[FileView]) -> dict[str, FormatInfo]:
    scratch = Path(tempfile.mkdtemp(prefix="preserve-identify-"))
    try:
        paths: dict[str, Path] = {}
        for number, f in enumerate(files):
            # Numbered names keep the extension siegfried may weigh, never the stored path.
            target = scratch / f"{number}{Path(f.path).suffix[:16]}"
            with location.open_read(f"{base}/{f.content_path}") as source, \
                    open(target, "xb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            paths[f.path] = target
        found = identifier.identify_many(list(paths.values()))
        return {logical: found[path] for logical, path in paths.items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
