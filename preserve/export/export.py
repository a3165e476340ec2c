"""`preserve export`: a package version written out for another archive (DESIGN.md, "Data
flow": export ─▶ bag/zip/tar/E-ARK with METS carrying every event ─▶ self-validated).

```
catalog + storage ─▶ ExportSource ─▶ METS with the complete PREMIS history + this transfer
(schema-checked) ─▶ written under a temporary name beside DEST (payload read once from
storage, verified while copied) ─▶ read back and checked ─▶ synced ─▶ renamed to DEST
─▶ `transfer` event in the log (destination, format, sha256)
```

A killed or failed export leaves at most `.<name>.partial-<uuid>` beside DEST, a name no
one takes for a package; a failed one removes even that and logs a failed `transfer`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.catalog import Catalog
from preserve.checksums import BLOCK_SIZE, HashingWriter, Progress
from preserve.deposit.tagfiles import parse_tag_file
from preserve.errors import (
    ExportFailed,
    ExportTargetExists,
    FixityError,
    InvalidMetadata,
    PreserveError,
    StorageError,
    UsageError,
)
from preserve.export import serialize
from preserve.export.bag import ALGORITHMS, Entry, bag_entries, bag_info, payload_entries
from preserve.export.formats import ExportFormat
from preserve.export.payload import DIR_MODE, ParallelCopy, copy_file, make_folders
from preserve.export.source import METS_PATH, ExportSource, collect, organization_agent
from preserve.export.verify import verify_archive, verify_directory
from preserve.findings import finding
from preserve.metadata import MetsFile, PremisEvent, SchemaSet, write_mets
from preserve.model import (
    Event,
    EventOutcome,
    EventType,
    Finding,
    acting_person,
    software_agent,
    utc_now,
)
from preserve.names import portable_name
from preserve.storage.fsync import fsync_dir, fsync_file, fsync_tree
from preserve.storage.local import LocalLocation
from preserve.storage.location import Location, StoredContent, StoredFileMissing
from preserve.storage.staging import EXPORT_PARTIAL_NOTE

log = logging.getLogger(__name__)

SOFTWARE_AGENT = software_agent()


@dataclass(frozen=True, slots=True)
class ExportOptions:
    format: ExportFormat = ExportFormat.BAG
    version: int | None = None  # default: the head version
    organization: str = ""  # the exporting archive (setting repository.name)
    schemas: SchemaSet | None = None
    workers: int = 0
    clock: Callable[[], dt.datetime] = utc_now
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))


@dataclass(frozen=True, slots=True)
class ExportResult:
    package_id: str
    version: int
    format: ExportFormat
    path: Path
    sha256: str | None  # of the zip or tar file; None for a directory
    files: int
    bytes: int
    events: int  # PREMIS events carried, this transfer included
    transfer_event: str
    findings: tuple[Finding, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version,
                "format": self.format.value, "path": str(self.path), "sha256": self.sha256,
                "files": self.files, "bytes": self.bytes, "events": self.events,
                "transfer_event": self.transfer_event,
                "findings": [f.as_dict() for f in self.findings]}


def default_name(package_id: str, version: int, export_format: ExportFormat) -> str:
    """`<package id>-v<N>[.zip|.tar|-eark|-eark.zip]`, the id made a name every operating
    system can create (`names.portable_name`: no `/`, `:` or other character Windows refuses,
    no control characters); the id itself stays exact inside the package."""
    return f"{portable_name(package_id)}-v{version}{export_format.name_ending}"


def export_package(catalog: Catalog, location: Location, package_id: str, dest: Path,
                   options: ExportOptions, work_dir: Path,
                   progress: Progress | None = None) -> ExportResult:
    """Write `package_id` to `dest` (a new path, or an existing directory to write into),
    reading the package from `location` (the local root, or any location holding a complete
    copy: every byte is verified against the catalog on the way out either way).

    Raises PackageNotFound, ExportTargetExists, StorageError / ExportFailed, FixityError
    (stored bytes that do not match the catalog: nothing is exported), InvalidMetadata.
    """
    created = options.clock()
    organization = options.organization or f"{SOFTWARE_NAME} repository"
    source = collect(catalog, location, package_id, options.version, organization, created)
    target = _target(Path(dest), package_id, source.version, options.format)
    temp = target.parent / f".{target.name}.partial-{options.new_id()}"
    transfer_id = options.new_id()
    detail = (f"export of {package_id} v{source.version} as {options.format.value} to "
              f"{target}")
    transfer = PremisEvent(identifier=transfer_id, type=EventType.TRANSFER.value, time=created,
                           outcome=EventOutcome.SUCCESS.value, agent=SOFTWARE_AGENT,
                           detail=detail, version=source.version,
                           recorded_by=organization_agent(organization),
                           person=acting_person())
    source = source.with_events(transfer)
    findings: list[Finding] = []
    try:
        work_dir.mkdir(parents=True)  # ours alone: the export's METS is written here first
        # Where the partial file goes, before it exists: a killed export leaves it beside
        # DEST, and `preserve check --repair` finds it through this note (issue 18).
        (work_dir / EXPORT_PARTIAL_NOTE).write_text(str(temp.absolute()), encoding="utf-8")
        digest = _write(source, options, temp, target.name, work_dir, findings, progress)
        _sync(temp)
        _publish(temp, target)
    except BaseException as exc:
        _remove(temp)
        error = _as_preserve_error(exc, target) if isinstance(exc, OSError) else exc
        if isinstance(exc, StoredFileMissing):  # a stored file that is gone is damage
            error = FixityError(detail=f"{exc.message}; nothing was exported: run `preserve "
                                "audit`, then `preserve repair` (or restore it from another "
                                "copy)")
        if isinstance(error, PreserveError) and not catalog.read_only:
            _log_transfer(catalog, source, transfer_id, created, detail, EventOutcome.FAILURE,
                          f"nothing was exported: {error.message}")
        if error is not exc:
            raise error from None
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    outcome = f"{len(source.files)} payload files, {source.payload_bytes} bytes"
    if digest is not None:
        outcome += f"; sha256 of the {options.format.value} file: {digest}"
    if catalog.read_only:
        # A mounted replica or a snapshot: the export carries its transfer event in its own
        # METS, but this repository's log cannot record it (issue 18: reading works read-only).
        findings.append(finding("EXP-W001", str(target), event=transfer_id))
    else:
        _log_transfer(catalog, source, transfer_id, created, detail, EventOutcome.SUCCESS,
                      outcome)
    log.info("exported %s v%d to %s", package_id, source.version, target)
    return ExportResult(package_id=package_id, version=source.version, format=options.format,
                        path=target, sha256=digest, files=len(source.files),
                        bytes=source.payload_bytes, events=len(source.events),
                        transfer_event=transfer_id, findings=tuple(findings))


def export_mets(source: ExportSource, schemas: SchemaSet | None, findings: list[Finding],
                work_dir: Path) -> Entry:
    """The METS of the export, written into `work_dir` as a stream and schema-checked from
    there (memory does not grow with the package): the stored descriptive record as it is,
    every event. Returns it as the bag entry `metadata/mets.xml`."""
    mets, check = _start_mets(source, schemas, findings, work_dir)
    check.result()
    return mets


def _start_mets(source: ExportSource, schemas: SchemaSet | None, findings: list[Finding],
                work_dir: Path) -> tuple[Entry, _SchemaCheck]:
    """`export_mets`, its schema check still running beside the caller (`_SchemaCheck`)."""
    files = [MetsFile(path=f.path, size=f.size, sha256=f.sha256, sha512=f.sha512,
                      format=f.format) for f in source.files]
    # The export's own bag-info names the sender: the METS header says the same.
    pairs, _ = parse_tag_file(bag_info(source).decode("utf-8"), "bag-info.txt")
    path = work_dir / "mets.xml"
    with open(path, "xb") as raw:
        out = HashingWriter(raw, ALGORITHMS)
        write_mets(
            out, package_id=source.package_id, version=source.version, created=source.created,
            files=files, bag_info=pairs, software=f"{SOFTWARE_NAME} {__version__}",
            label=source.title, software_agent=SOFTWARE_AGENT, events=source.events,
            mods=source.mods_xml, dublin_core=source.dc_values or None, rights=source.rights)
    if schemas is None:
        findings.append(finding("META-W004", METS_PATH))
    # Read back into the bag like stored content: the work directory as a location of its own.
    scratch = LocalLocation("export-work", work_dir)
    mets = Entry(METS_PATH, out.size, out.hexdigests(), content=StoredContent(scratch, path.name))
    return mets, _SchemaCheck(schemas, path)


class _SchemaCheck:
    """The schema check of the export's METS in a thread of its own, beside the rest of the
    export: lxml releases the GIL while it parses and validates, so on a package of many
    files it overlaps the copying and the read-back (docs/performance.md, "Export (issue 17)").
    `result()` waits and raises InvalidMetadata; `join()` only waits (before the work
    directory holding the METS is removed)."""

    def __init__(self, schemas: SchemaSet | None, path: Path) -> None:
        self._problems: list[str] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(schemas, path),
                                         name="export_mets_check", daemon=True)
        self._thread.start()

    def _run(self, schemas: SchemaSet | None, path: Path) -> None:
        try:
            self._problems = schemas.validate_mets_file(path) if schemas is not None else []
        except BaseException as exc:  # raised in the export's thread by result()
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._problems:
            raise InvalidMetadata(problems="; ".join(self._problems[:5]))


def _write(source: ExportSource, options: ExportOptions, temp: Path, name: str,
           work_dir: Path, findings: list[Finding], progress: Progress | None) -> str | None:
    if options.format.is_eark:
        from preserve.export import eark  # the E-ARK writer (CSIP/SIP 2.1)
        total = source.payload_bytes
        if progress:
            progress.start(total)
        # As one zip, the package is one folder named for it, and the METS OBJID is that name
        # (CSIP1): the package id made portable (`urn:uuid:…` has colons Windows refuses).
        zipped = options.format is ExportFormat.EARK_ZIP
        folder = work_dir / "eark" / portable_name(source.package_id) if zipped else temp
        findings.extend(eark.write_eark(source, folder, options.schemas,
                                        progress=progress.advance if progress else None,
                                        objid=folder.name if zipped else None))
        eark_problems = eark.verify_eark(folder)
        if eark_problems:
            raise ExportFailed(package_id=source.package_id, target=temp,
                               problems="; ".join(f"{p.code} {p.path}: {p.message}"
                                                  for p in eark_problems[:10]))
        return eark.zip_package(folder, temp) if zipped else None
    if options.format is ExportFormat.BAG:
        _write_directory(source, options, temp, work_dir, findings, progress)
        return None
    mets, check = _start_mets(source, options.schemas, findings, work_dir)
    try:
        entries: list[Entry] = bag_entries(source, mets)
        if progress:
            progress.start(sum(e.size for e in entries))
        advance = progress.advance if progress else None
        top = name.removesuffix(options.format.suffix) if options.format.suffix else name
        writer = serialize.write_zip if options.format is ExportFormat.ZIP else serialize.write_tar
        digest = writer(entries, temp, top, advance, options.workers or os.cpu_count() or 1)
        problems = verify_archive(temp, options.format.value, entries, top)
    finally:
        check.join()
    check.result()  # an invalid METS fails the export before any read-back problem
    if problems:
        raise ExportFailed(package_id=source.package_id, target=temp,
                           problems="; ".join(problems[:10]))
    return digest


def _write_directory(source: ExportSource, options: ExportOptions, temp: Path, work_dir: Path,
                     findings: list[Finding], progress: Progress | None) -> None:
    """The bag as the directory `temp`: the payload is copied (verified, read back) by
    threads that start first, while this thread builds and checks the METS; then the tag
    files, then the read-back check of the whole directory."""
    payload = payload_entries(source)
    if progress:
        progress.start(source.payload_bytes)  # the tag files are small: not counted
    os.mkdir(temp, DIR_MODE)
    make_folders(temp, [e.path for e in payload] + [METS_PATH])
    copying = ParallelCopy(payload, temp, options.workers or os.cpu_count() or 1,
                           progress.advance if progress else None)
    check: _SchemaCheck | None = None
    try:
        mets, check = _start_mets(source, options.schemas, findings, work_dir)
        entries = bag_entries(source, mets)
        # The METS is copied from the work directory like stored content: verified against
        # the digests computed while it was written, and read back.
        copied_mets = copy_file(mets, temp, (bytearray(BLOCK_SIZE), bytearray(BLOCK_SIZE)))
        copied = copying.result() + [copied_mets]
        serialize.write_tag_files([e for e in entries if e.data is not None], temp)
        problems = verify_directory(temp, entries, work_dir / "readback", copied)
    finally:
        copying.cancel()  # nothing left to do after result(); after a failure, stop them
        if check is not None:
            check.join()
    check.result()  # an invalid METS fails the export before any read-back problem
    if problems:
        raise ExportFailed(package_id=source.package_id, target=temp,
                           problems="; ".join(problems[:10]))


def export_target(dest: Path, package_id: str, version: int,
                  export_format: ExportFormat) -> Path:
    """The path an export to `dest` writes (a queued export fixes it when it is enqueued).
    ExportTargetExists if something is there; UsageError if its folder does not exist."""
    return _target(Path(dest), package_id, version, export_format)


def _target(dest: Path, package_id: str, version: int, export_format: ExportFormat) -> Path:
    if dest.is_dir() and not dest.is_symlink():
        target = dest / default_name(package_id, version, export_format)
    else:
        target = dest
        wanted = export_format.suffix
        if wanted and target.suffix.lower() != wanted:
            if target.suffix.lower() in (".zip", ".tar", ".tgz", ".gz", ".bag"):
                raise UsageError(detail=f"{target} ends in {target.suffix!r} but --format "
                                 f"{export_format.value} writes a {wanted} file; name it "
                                 f"{target.with_suffix(wanted).name} or choose that format")
            target = target.with_name(target.name + wanted)  # `p1` -> `p1.zip`
    if os.path.lexists(target):
        raise ExportTargetExists(path=str(target))
    if not target.parent.is_dir():
        raise UsageError(detail=f"{target.parent} is not an existing directory; create it "
                         "first (an export never creates folders above its target)")
    return target


def _sync(temp: Path) -> None:
    if temp.is_dir():
        fsync_tree(temp)
    else:
        fsync_file(temp)


def _publish(temp: Path, target: Path) -> None:
    """Give the finished export its name without ever replacing what another wrote there."""
    if temp.is_dir():
        if os.path.lexists(target):
            raise ExportTargetExists(path=str(target))
        os.rename(temp, target)
    else:
        try:
            os.link(temp, target)  # fails if target appeared meanwhile: never overwritten
        except FileExistsError:
            raise ExportTargetExists(path=str(target)) from None
        os.unlink(temp)
    fsync_dir(target.parent)


def _remove(temp: Path) -> None:
    try:
        if temp.is_dir() and not temp.is_symlink():
            shutil.rmtree(temp)
        elif os.path.lexists(temp):
            os.unlink(temp)
    except OSError as exc:
        log.warning("could not remove the partial export %s: %s", temp, exc)


def _as_preserve_error(exc: OSError, target: Path) -> PreserveError:
    """An OSError while exporting as what it means for the user (issue 18: never exit 3):
    a stored file that is gone is damage (exit 12); anything else is storage (exit 13),
    saying whether it was the destination or the repository's storage."""
    where = exc.filename or ""
    at_destination = bool(where) and Path(str(where)).parent == target.parent
    if isinstance(exc, FileNotFoundError) and not at_destination:
        return FixityError(detail=f"the stored file {where} is missing; nothing was exported: "
                           "run `preserve audit`, then `preserve repair` (or restore it from "
                           "another copy)")
    if at_destination:
        return StorageError(detail=f"cannot write the export to {target.parent}: "
                            f"{exc.strerror}; nothing was exported. Choose a writable "
                            "destination with enough space")
    return StorageError(detail=f"reading {where or 'the stored package'} failed: "
                        f"{exc.strerror}; nothing was exported. Check the storage (disk, "
                        "mount) and run `preserve audit`")


def _log_transfer(catalog: Catalog, source: ExportSource, identifier: str,
                  created: dt.datetime, detail: str, outcome: EventOutcome,
                  outcome_detail: str) -> None:
    catalog.append_events([Event(
        type=EventType.TRANSFER, outcome=outcome, time=created, agent=SOFTWARE_AGENT,
        detail=detail, outcome_detail=outcome_detail, package_id=source.package_id,
        version=source.version, identifier=identifier)])
