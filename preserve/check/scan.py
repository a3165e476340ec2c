"""Finding what is out of step between staging, storage and catalog; nothing is written.

Issue 6, item 3. Four sources, compared:

* `staging/`: every directory directly under it belongs to an ingest (`ingest-<uuid>`, made
  by the ingest workflow) or another writer. One is *orphaned* when nobody holds its lock
  (the `<dir>.lock` file beside it, which its ingest holds with flock for as long as it
  lives, or an flock on the directory) *and* nothing under it was written for `min_age`.
  The lock alone decides for ingests that take it (the kernel drops it when the process
  dies, however it dies); the age covers writers that do not: ingests write continuously
  while they copy (each file's mtime moves with every block), so an idle day means the run
  is gone. A younger or locked one is only mentioned (CHK-W001). An orphaned one holding an
  ingest's intent record (`intent.json`) is reported and kept (CHK-E009): re-running that
  ingest completes and records its version.
* storage objects the catalog does not know (CHK-E002), directories holding an OCFL object
  declaration that cannot be an object of ours (CHK-E005), and objects whose versions and the
  catalog's disagree (CHK-E006). The object's root inventory is written last by every commit,
  so its mtime is the age of the newest version: younger than `min_age`, an ingest may be
  between its storage commit and its catalog transaction, and the object is left alone.
* catalog packages whose object is gone (CHK-E003), and the empty layout directories an
  object removed by hand leaves (CHK-E008; OCFL 1.1 forbids them in the hierarchy).
* deposits `in_progress` for longer than `min_age` (CHK-E004).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from preserve.catalog import Catalog
from preserve.catalog.intent import parse_intent
from preserve.check.lock import work_dir_in_use
from preserve.check.report import CheckPlan, Inconsistency, Kind, Plan
from preserve.errors import StorageError
from preserve.findings import finding
from preserve.model import Finding
from preserve.storage import StorageRoot, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.listing import UNDECLARED
from preserve.storage.local import LocalLocation
from preserve.storage.staging import AUDIT_LOCK, EXPORT_PARTIAL_NOTE, INTENT_FILE, lock_held

log = logging.getLogger(__name__)


def find_inconsistencies(staging: Path, catalog: Catalog, storage: StorageRoot, *,
                         location: str, min_age: dt.timedelta, now: dt.datetime) -> CheckPlan:
    """Compare staging, storage and catalog; return what is out of step (nothing changes)."""
    found: list[Inconsistency] = []
    skipped: list[Finding] = []
    _staging(staging, catalog, min_age, now, found, skipped)
    leaving = _deaccessions(catalog, found)
    _storage(catalog, storage, location, min_age, now, found, skipped, leaving)
    undeclared = _root(storage, found, leaving)
    _empty(storage, min_age, now, found, skipped, undeclared, leaving)
    _deposits(catalog, min_age, now, found, skipped)
    _running_audits(catalog, staging.parent, found)
    _known_damage(catalog, found)
    return CheckPlan(tuple(found), tuple(skipped))


def human_age(age: dt.timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


# --- staging ---------------------------------------------------------------------------------


def staging_dirs(staging: Path) -> Iterator[Path]:
    """Directories directly under `staging` (not links; files are not ours to judge)."""
    try:
        entries = sorted(os.scandir(staging), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield Path(entry.path)


def newest_mtime(path: Path) -> dt.datetime:
    """The latest modification time of `path` or anything below it (links not followed)."""
    newest = os.lstat(path).st_mtime
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except FileNotFoundError:  # removed while we look: someone is working in it
                return dt.datetime.now(dt.UTC)
    return dt.datetime.fromtimestamp(newest, dt.UTC)


def staging_in_use(path: Path, min_age: dt.timedelta, now: dt.datetime) -> dt.timedelta | None:
    """None if the staging directory may be removed, else its age (too young, or locked)."""
    age = now - newest_mtime(path)
    if age < min_age or work_dir_in_use(path):
        return age
    return None


def _staging(staging: Path, catalog: Catalog, min_age: dt.timedelta, now: dt.datetime,
             found: list[Inconsistency], skipped: list[Finding]) -> None:
    for path in staging_dirs(staging):
        shown = f"staging/{path.name}"
        try:
            young = staging_in_use(path, min_age, now)
        except FileNotFoundError:
            continue  # gone while we looked: its ingest finished
        if young is not None:
            skipped.append(finding("CHK-W001", shown, what="staging directory", target=shown,
                                   age=human_age(young), min_age=human_age(min_age)))
            continue
        if (path / INTENT_FILE).exists() and not _intent_recorded(path, catalog):
            found.append(Inconsistency(Kind.STAGING, Plan.NOTHING,
                                       finding("CHK-E009", shown, directory=shown), target=shown))
            continue
        age = now - newest_mtime(path)
        partial = _partial_export(path)
        if partial is not None:
            found.append(Inconsistency(Kind.PARTIAL, Plan.REMOVE_PARTIAL, finding(
                "CHK-E015", str(partial), file=str(partial), age=human_age(age)),
                target=str(partial)))
        found.append(Inconsistency(Kind.STAGING, Plan.REMOVE,
                                   finding("CHK-E001", shown, directory=shown, age=human_age(age)),
                                   target=shown))


def _intent_recorded(path: Path, catalog: Catalog) -> bool:
    """Whether the version the intent record in `path` was about to commit is in the catalog
    (its ingest got that far, or a repair recorded it): then the directory is only garbage."""
    try:
        intent = parse_intent((path / INTENT_FILE).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if intent is None:
        return False
    return (catalog.head_version(intent.package_id) or 0) >= intent.version


# --- storage and catalog packages ------------------------------------------------------------


def object_age(object_path: Path, now: dt.datetime) -> dt.timedelta:
    """Age of the object's newest commit: the mtime of its root inventory (written last)."""
    try:
        stat = os.lstat(object_path / inv.INVENTORY)
    except OSError:
        stat = os.lstat(object_path)
    return now - dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)


def _deaccessions(catalog: Catalog, found: list[Inconsistency]) -> set[str]:
    """CHK-E016 for every approved deaccession whose removal did not finish (issue 16 §2);
    returns the object paths being removed, which the other scans leave to that repair."""
    leaving = set()
    for request in catalog.deaccession_requests(states=("approved",)):
        found.append(Inconsistency(
            Kind.DEACCESSION, Plan.FINISH_DEACCESSION,
            finding("CHK-E016", "", request=request.id, package_id=request.package_id),
            target=request.package_id, package_id=request.package_id, request_id=request.id))
        leaving.add(object_path_for(request.package_id))
    return leaving


def _storage(catalog: Catalog, storage: StorageRoot, location: str, min_age: dt.timedelta,
             now: dt.datetime, found: list[Inconsistency], skipped: list[Finding],
             leaving: set[str]) -> None:
    # A deaccessioned package holds no object (its rows are a tombstone); one being removed
    # is CHK-E016's.
    packages = {object_path_for(p.package_id): p for p in catalog.list_packages()
                if p.state == "active" and object_path_for(p.package_id) not in leaving}
    local = LocalLocation(location, storage.path)
    seen: set[str] = set()
    for object_path in storage.iter_object_paths():
        relative = object_path.relative_to(storage.path).as_posix()
        if relative in leaving:
            continue
        known = packages.get(relative)
        if known is not None:
            seen.add(relative)
        object_id: str | None
        problem: str | None
        try:
            inventory, _digest = inv.read(local, relative)
            object_id = inventory.id
            head = inventory.head
        except StorageError as exc:
            if known is not None:
                continue  # a damaged object the catalog knows: `preserve audit` reports it
            inventory, object_id, head, problem = None, None, 0, exc.message
        else:
            problem = None
            if object_path_for(object_id) != relative:
                problem = f"its inventory names object {object_id!r}, which belongs elsewhere"
        age = object_age(object_path, now)
        if known is not None:
            if head == known.versions:
                continue
            if age < min_age:
                skipped.append(_young(f"object of package {known.package_id}", relative, age,
                                      min_age))
                continue
            if head > known.versions:
                what = ("`preserve check --repair` validates the object and adopts the newer "
                        "versions")
                plan = Plan.ADOPT_VERSIONS
            else:
                what = ("the catalog is ahead of storage: restore the object from another copy "
                        "or a backup")
                plan = Plan.NOTHING
            found.append(Inconsistency(
                Kind.VERSIONS, plan,
                finding("CHK-E006", relative, package_id=known.package_id, stored=head,
                        recorded=f"{known.versions} version(s)", what=what),
                target=known.package_id, package_id=known.package_id, object_path=relative))
            continue
        if age < min_age:
            skipped.append(_young("object", relative, age, min_age))
            continue
        if problem is not None:
            found.append(Inconsistency(
                Kind.INVALID, Plan.QUARANTINE,
                finding("CHK-E005", relative, object_path=relative, detail=problem),
                target=relative, package_id=object_id, object_path=relative))
            continue
        assert object_id is not None  # read from a sound inventory (problem is None)
        found.append(Inconsistency(
            Kind.ORPHAN, Plan.ADOPT,
            finding("CHK-E002", relative, object_id=object_id, object_path=relative),
            target=object_id, package_id=object_id, object_path=relative))
    for relative, package in sorted(packages.items(), key=lambda item: item[1].package_id):
        if relative in seen:
            continue
        detail = catalog.get_package(package.package_id)
        statuses = {c.status for f in detail.files for c in f.copies if c.location == location}
        plan = Plan.NOTHING if statuses == {"missing"} else Plan.MARK_MISSING
        found.append(Inconsistency(
            Kind.MISSING, plan,
            finding("CHK-E003", relative, package_id=package.package_id, object_path=relative),
            target=package.package_id, package_id=package.package_id, object_path=relative))


def _young(what: str, target: str, age: dt.timedelta, min_age: dt.timedelta) -> Finding:
    return finding("CHK-W001", target, what=what, target=target, age=human_age(age),
                   min_age=human_age(min_age))


def empty_directories(root: Path) -> list[Path]:
    """The topmost directories under `root` holding nothing but (empty) directories.

    Objects are not entered (a directory with an object declaration is never empty), nor
    the root's `extensions/`.
    """
    found: list[Path] = []

    def empty(directory: Path) -> bool:
        children = sorted(os.scandir(directory), key=lambda e: e.name)
        if any(not c.is_dir(follow_symlinks=False) for c in children):
            return False
        flags = [empty(Path(c.path)) for c in children]
        if all(flags):
            return True
        found.extend(Path(c.path) for c, flag in zip(children, flags, strict=True) if flag)
        return False

    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False) and entry.name != "extensions":
            if empty(Path(entry.path)):
                found.append(Path(entry.path))
    return sorted(found)


def _within(relative: str, leaving: set[str]) -> bool:
    """Whether `relative` is, holds or lies in an object an unfinished deaccession removes."""
    return any(relative == p or p.startswith(relative + "/") or relative.startswith(p + "/")
               for p in leaving)


def _root(storage: StorageRoot, found: list[Inconsistency], leaving: set[str]) -> set[str]:
    """Every path of the storage root that is no object, layout directory or root file
    (issue 11 item 4; `storage/listing.py`). Left for the operator: nobody knows whose it is.
    Returns the object-shaped directories without a declaration. What an unfinished
    deaccession was removing is CHK-E016's (its repair removes the rest)."""
    undeclared = set()
    for kind, relative in storage.unaccounted():
        if _within(relative, leaving):
            continue
        if kind == UNDECLARED:
            undeclared.add(relative)
            found.append(Inconsistency(Kind.UNDECLARED, Plan.NOTHING,
                                       finding("CHK-E011", relative, entry=relative),
                                       target=relative, object_path=relative))
        else:
            found.append(Inconsistency(Kind.STRAY, Plan.NOTHING,
                                       finding("CHK-E010", relative, entry=relative),
                                       target=relative, object_path=relative))
    return undeclared


def _known_damage(catalog: Catalog, found: list[Inconsistency]) -> None:
    """Copies an audit found damaged or missing, until one passes again (issue 11 item 2);
    and an event log whose append-only triggers were dropped (issue 18)."""
    # A package whose whole object is gone is one finding (CHK-E003), not one per file.
    gone = {i.package_id for i in found if i.kind is Kind.MISSING}
    for p in catalog.open_problems():
        if p.package_id in gone:
            continue
        found.append(Inconsistency(
            Kind.DAMAGED, Plan.NOTHING,
            finding("CHK-E012", p.content_path, package_id=p.package_id,
                    content_path=p.content_path, status=p.status,
                    since=p.since.isoformat(timespec="seconds"), paths=", ".join(p.paths)),
            target=f"{p.package_id}:{p.content_path}", package_id=p.package_id))
    missing = catalog.missing_guards()
    if missing:
        found.append(Inconsistency(Kind.UNGUARDED, Plan.NOTHING,
                                   finding("CHK-E013", "events", triggers=", ".join(missing)),
                                   target="events"))


def _empty(storage: StorageRoot, min_age: dt.timedelta, now: dt.datetime,
           found: list[Inconsistency], skipped: list[Finding],
           undeclared: frozenset[str] | set[str] = frozenset(),
           leaving: frozenset[str] | set[str] = frozenset()) -> None:
    for path in empty_directories(storage.path):
        relative = path.relative_to(storage.path).as_posix()
        if relative in undeclared:
            continue  # reported as CHK-E011
        if _within(relative, set(leaving)):
            continue  # the unfinished deaccession's repair removes it (CHK-E016)
        age = now - newest_mtime(path)
        if age < min_age:  # an ingest makes the layout's directories just before its rename
            skipped.append(_young("empty directory", relative, age, min_age))
            continue
        found.append(Inconsistency(Kind.EMPTY, Plan.REMOVE_EMPTY,
                                   finding("CHK-E008", relative, directory=relative),
                                   target=relative, object_path=relative))


# --- deposits --------------------------------------------------------------------------------


def _deposits(catalog: Catalog, min_age: dt.timedelta, now: dt.datetime,
              found: list[Inconsistency], skipped: list[Finding]) -> None:
    for deposit in catalog.deposits():
        if deposit.status != "in_progress":
            continue
        age = now - deposit.started
        target = f"deposit {deposit.id}"
        if age < min_age:
            skipped.append(_young("deposit in progress", target, age, min_age))
            continue
        found.append(Inconsistency(
            Kind.STUCK, Plan.MARK_FAILED,
            finding("CHK-E004", target, deposit_id=deposit.id, source=deposit.source,
                    started=deposit.started.isoformat(timespec="seconds")),
            target=target, deposit_id=deposit.id))


# --- leftovers of killed audits and exports (issue 18) ---------------------------------------

#: the name an export gives its file while writing it (export/serialize.py): `.NAME.partial-UUID`
PARTIAL_NAME = re.compile(r"^\..+\.partial-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                          r"[0-9a-f]{12}$")


def _partial_export(work_dir: Path) -> Path | None:
    """The partial file a killed export left, named by the note in its work directory."""
    try:
        noted = Path((work_dir / EXPORT_PARTIAL_NOTE).read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return None
    if not noted.is_absolute() or not PARTIAL_NAME.match(noted.name):
        return None  # only ever a file of that exact shape is ours to remove
    return noted if os.path.lexists(noted) else None


def _running_audits(catalog: Catalog, home: Path, found: list[Inconsistency]) -> None:
    if lock_held(home / AUDIT_LOCK):
        return  # an audit is running now: its row is rightly `running`
    for run in catalog.audit_runs():
        if run.status != "running":
            continue
        target = f"audit run {run.id}"
        found.append(Inconsistency(Kind.RUNNING, Plan.CLOSE_RUN, finding(
            "CHK-E014", target, run_id=run.id, started=run.started.isoformat(timespec="seconds")),
            target=target, run_id=run.id))
