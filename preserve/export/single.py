"""One stored file out of the archive, verified on the way out (issue 16, §6: `preserve get`).

Archivists ask for one page of a manuscript far more often than for a whole package. The
file is found by its logical path in a version (as deposited, with or without `data/`), read
from the first location whose copy the catalog holds `ok` (`local` first), hashed while it is
written to a temporary file beside the destination, and published only when its size, sha256
and sha512 equal the catalog's. A copy that does not verify is never handed out: the next
location is tried, and when none verifies nothing is written (exit 12). The destination is
never overwritten.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.catalog import Catalog
from preserve.catalog.views import FileView
from preserve.checksums import copy_stream_and_hash
from preserve.errors import ExportTargetExists, FixityError, PreserveError, UsageError
from preserve.export.source import refuse_deaccessioned
from preserve.storage.layout import object_path_for
from preserve.storage.location import Location

log = logging.getLogger(__name__)

PAYLOAD_PREFIX = "data/"
_ALGORITHMS = ("sha256", "sha512")


@dataclass(frozen=True, slots=True)
class Retrieved:
    package_id: str
    version: int
    path: str
    size: int
    sha256: str
    sha512: str
    location: str  # where the bytes came from
    target: str
    refused: tuple[str, ...]  # locations whose copy did not verify, with why

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version, "path": self.path,
                "size": self.size, "sha256": self.sha256, "sha512": self.sha512,
                "read_from": self.location, "target": self.target,
                "refused": list(self.refused)}


def find_file(catalog: Catalog, package_id: str, path: str,
              version: int | None) -> tuple[int, FileView]:
    """(version, the catalog's record of `path` in it). `path` is a logical path as deposited,
    `data/` optional for payload. UsageError (exit 2) when the version has no such file."""
    refuse_deaccessioned(catalog, package_id)
    detail = catalog.get_package(package_id)
    number = detail.head if version is None else version
    if number not in {v.number for v in detail.versions}:
        raise UsageError(detail=f"package {package_id} has no version v{number}; it has "
                         + ", ".join(f"v{v.number}" for v in detail.versions))
    files = {f.path: f for f in detail.files_of(number)}
    found = files.get(path) or files.get(PAYLOAD_PREFIX + path)
    if found is None:
        raise UsageError(detail=f"version v{number} of {package_id} has no file {path!r} "
                         f"(names are matched byte for byte); `preserve show {package_id}` "
                         "lists its files")
    return number, found


def get_file(catalog: Catalog, locations: Sequence[Location], package_id: str, path: str,
             target: Path, *, version: int | None = None) -> Retrieved:
    """Write the file to the new path `target`, verified (see the module docstring).

    Raises PackageNotFound, UsageError (no such version or file), ExportTargetExists,
    FixityError (no location holds a copy that verifies; nothing written)."""
    number, record = find_file(catalog, package_id, path, version)
    if os.path.lexists(target):
        raise ExportTargetExists(path=target)
    if not target.absolute().parent.is_dir():
        raise UsageError(detail=f"the folder {target.absolute().parent} does not exist")
    ok = [c.location for c in record.copies if c.status == "ok"]
    order = [loc for loc in locations if loc.name in ok]
    stored = f"{object_path_for(package_id)}/{record.content_path}"
    refused: list[str] = []
    for location in order:
        temp = target.absolute().parent / f".{target.name}.partial-{uuid.uuid4().hex}"
        try:
            with location.open_read(stored) as stream:
                size, digests = copy_stream_and_hash(stream, temp, _ALGORITHMS)
        except (PreserveError, OSError) as error:
            temp.unlink(missing_ok=True)
            reason = error.message if isinstance(error, PreserveError) else str(error)
            refused.append(f"{location.name}: {reason}")
            continue
        if (size, digests["sha256"], digests["sha512"]) != (record.size, record.sha256,
                                                            record.sha512):
            temp.unlink(missing_ok=True)
            refused.append(f"{location.name}: read {size} bytes with sha512 "
                           f"{digests['sha512'][:16]}…, not the catalog's")
            log.warning("the copy of %s %s at %s does not verify", package_id, record.path,
                        location.name)
            continue
        try:
            _publish(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return Retrieved(package_id, number, record.path, size, digests["sha256"],
                         digests["sha512"], location.name, str(target), tuple(refused))
    raise FixityError(detail=(
        f"no location holds a copy of {record.path} of {package_id} v{number} that verifies"
        + (f" ({'; '.join(refused)})" if refused else " (no copy is recorded ok)")
        + "; nothing was written. Run `preserve audit --package " + package_id
        + "`, then `preserve repair`"))


def _publish(temp: Path, target: Path) -> None:
    """Give the verified file its name without ever replacing one: a hard link fails if the
    name exists; where links are not supported (some mounts), a rename after a check."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise ExportTargetExists(path=target) from None
    except OSError:
        if os.path.lexists(target):
            raise ExportTargetExists(path=target) from None
        os.rename(temp, target)
