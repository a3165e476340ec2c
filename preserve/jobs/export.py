"""A queued export (issue 14; `preserve export ID DEST --enqueue`): `export_package` in a
worker, safe to run again.

The job is enqueued with everything fixed: the version, the exact target path (`DEST` or
`DEST/<id>-vN…`) and an export id. Each run of the job names its transfer event — and the
partial file it writes beside the target — by a UUID derived from the export id and the
run's number (`run_identifier`): the first number no event of the log has yet. So:

* a run killed while writing left `.<target>.partial-<its id>` and no event: the next run
  takes the same number, removes that partial file (and its scratch directory) and writes
  the export again;
* a run that failed (a location away, say) recorded a `transfer` event of failure under its
  number: the next run takes the next number;
* a run killed after publishing the target but before recording its event left the target
  with the run's identifier inside its METS: the next run finds it there and records the
  `transfer` event of success it was missing, without exporting again;
* a run after a recorded success does nothing.

So a job retried after `kill -9` leaves at most one export at the target and records one
`transfer` event of success.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from preserve.errors import ExportTargetExists, StorageError
from preserve.export.export import ExportOptions, export_package
from preserve.export.fallback import readable_location
from preserve.export.formats import ExportFormat
from preserve.jobs.work import JobEnvironment
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now

log = logging.getLogger(__name__)

NAMESPACE = uuid.UUID("0c4b7d56-2a8e-4b61-a0f5-3f6e9d1c7a28")
#: Runs of one export job looked for (each failed run records one event under its number).
MAX_RUNS = 100
#: Bytes of a METS read while looking for a run's identifier in a published export.
METS_LIMIT = 256 << 20


def run_identifier(export_id: str, run: int) -> str:
    """The transfer event identifier of run `run` of the export job `export_id`."""
    return str(uuid.uuid5(NAMESPACE, f"{export_id}|{run}"))


def export_job(env: JobEnvironment, package_id: str, version: int, target: str,
               export_format: str, export_id: str) -> dict[str, Any]:
    """Export `package_id` v`version` to the path `target` (see the module docstring)."""
    path = Path(target)
    fmt = ExportFormat(export_format)
    ids = [run_identifier(export_id, n) for n in range(MAX_RUNS)]
    done: dict[str, Any] = {"package_id": package_id, "version": version, "path": target,
                            "format": fmt.value}
    with env.open_catalog() as catalog:
        wanted = set(ids)
        earlier = {e.identifier: e for e in catalog.events(package_id)
                   if e.identifier in wanted}
        succeeded = [i for i, e in earlier.items()
                     if str(getattr(e.outcome, "value", e.outcome)) == EventOutcome.SUCCESS.value]
        if succeeded:
            if not os.path.lexists(path):
                log.warning("%s was exported to %s by an earlier run, and is gone from there",
                            package_id, path)
            return done | {"transfer_event": succeeded[0], "exported_by_earlier_run": True}
        run = next((n for n, i in enumerate(ids) if i not in earlier), None)
        if run is None:
            raise StorageError(detail=f"the export of {package_id} to {path} failed "
                               f"{MAX_RUNS} times; queue a new one")
        # What killed runs of this number left: their partial file and scratch directory.
        partial = path.parent / f".{path.name}.partial-{ids[run]}"
        _remove(partial)
        staging = env.staging or path.parent
        work_dir = staging / f"export-{ids[run]}"
        shutil.rmtree(work_dir, ignore_errors=True)
        if os.path.lexists(path):
            published = _published_by(path, fmt, ids[:run + 1])
            if published is None:
                raise ExportTargetExists(path=str(path))
            catalog.append_events([Event(
                type=EventType.TRANSFER, outcome=EventOutcome.SUCCESS, time=utc_now(),
                agent=software_agent(), package_id=package_id, version=version,
                identifier=published,
                detail=f"export of {package_id} v{version} as {fmt.value} to {path}",
                outcome_detail="written and published by a run of the export job that "
                               "stopped before recording it; found complete at the target")])
            log.info("%s: the export at %s was published by an interrupted run; recorded",
                     package_id, path)
            return done | {"transfer_event": published, "exported_by_earlier_run": True}
        options = ExportOptions(format=fmt, version=version, organization=env.organization,
                                schemas=env.schemas() if env.schemas else None, workers=1,
                                new_id=lambda: ids[run])
        location = readable_location(catalog, env.locations(), package_id)
        result = export_package(catalog, location, package_id, path, options, work_dir)
    return done | result.as_dict() | {"read_from": location.name,
                                      "exported_by_earlier_run": False}


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink()


def _published_by(path: Path, fmt: ExportFormat, ids: Sequence[str]) -> str | None:
    """Which of `ids` the export at `path` carries in its METS (None: not one of ours)."""
    texts: list[bytes] = []
    try:
        if path.is_dir() and not path.is_symlink():
            texts = [p.read_bytes()[:METS_LIMIT] for p in sorted(path.rglob("*.xml"))
                     if p.is_file() and not p.is_symlink()]
        elif fmt is ExportFormat.ZIP:
            with zipfile.ZipFile(path) as archive:
                texts = [archive.read(n)[:METS_LIMIT] for n in archive.namelist()
                         if n.endswith(".xml")]
        elif fmt is ExportFormat.TAR:
            with tarfile.open(path) as archive:
                for member in archive.getmembers():
                    if member.isfile() and member.name.endswith(".xml"):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            texts.append(handle.read(METS_LIMIT))
    except (OSError, zipfile.BadZipFile, tarfile.TarError):
        return None
    for identifier in ids:
        if any(identifier.encode() in text for text in texts):
            return identifier
    return None
