"""Building one new OCFL version in staging and moving it into the storage root.

OCFL 1.1 section 3.3 (version directories), 3.5.2 (manifest), 3.5.3 (versions and state),
3.5.4 (fixity), section 7 / implementation notes (a version is prepared elsewhere and moved in;
the root inventory is the commit point). The caller lists the complete logical state of the
new version: nothing is carried forward implicitly.

Staging layout (all under the caller's `staging_dir`, same filesystem as the root):

    staging_dir/object/vN/content/<logical path>      new content, as the caller writes it
    staging_dir/object/vN/inventory.json(.sha512)     written by commit
    staging_dir/object/inventory.json(.sha512)        the new root inventory
    staging_dir/object/0=ocfl_object_1.1              new objects only

A new object is one `os.rename` of `staging_dir/object`. For an existing object `vN` is renamed
in, then the root inventory and its sidecar replace the old ones (os.replace from staging, so
an interrupted commit leaves no stray file in the object).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from preserve.checksums import REQUIRED_ALGORITHMS, is_hex_digest
from preserve.errors import StorageError
from preserve.storage import inventory as inv
from preserve.storage.fsync import (
    fsync_dir,
    fsync_tree,
    write_atomic,
    write_new,
    write_new_pieces,
)

log = logging.getLogger(__name__)


class VersionBuilder:
    """One version of one object being staged. Made by `StorageRoot.begin_version`."""

    def __init__(
        self,
        *,
        object_id: str,
        object_path: Path,
        staging_dir: Path,
        previous: dict[str, Any] | None,
        previous_digest: str | None,
    ) -> None:
        self.object_id = object_id
        self.version = 1 if previous is None else inv.head_number(previous) + 1
        self._object_path = object_path
        self._staging_dir = staging_dir
        self._previous = previous
        self._previous_digest = previous_digest
        self._content_dir: str = (previous or {}).get("contentDirectory", inv.DEFAULT_CONTENT_DIRECTORY)
        self._manifest: dict[str, list[str]] = copy.deepcopy(previous["manifest"]) if previous else {}
        self._fixity: dict[str, dict[str, list[str]]] = (
            copy.deepcopy(previous.get("fixity") or {}) if previous else {}
        )
        # fixity name -> {content path: digest}: the reverse of the fixity block, so adding a
        # file is O(1) whatever the size of the object (no tuple per file: issue 17).
        self._fixity_of: dict[str, dict[str, str]] = {
            name: {path: digest for digest, paths in block.items() for path in paths}
            for name, block in self._fixity.items()
        }
        # Other writers may use uppercase hex; look digests up case-blind (OCFL 1.1 E096).
        # Only digests not already lowercase are listed: ours are, and an entry per file
        # would cost memory for nothing.
        self._by_lower = {digest.lower(): digest for digest in self._manifest
                          if digest != digest.lower()}
        self._state: dict[str, str] = {}  # logical path -> manifest digest
        self._content_of: dict[str, str] = {}  # logical path -> content path
        self._dirs: set[str] = set()  # every directory prefix of a logical path in the state
        self._done = False
        self._prepared: str | None = None  # the inventory's sha512, once prepare() ran
        self._staged_object = staging_dir / "object"
        self._staged_version = self._staged_object / inv.version_name(self.version)
        self._staged_version.mkdir(parents=True)

    # --- declaring the state ---------------------------------------------------------------

    @property
    def _prefix(self) -> str:
        return f"{inv.version_name(self.version)}/{self._content_dir}/"

    def _check_open(self) -> None:
        if self._done:
            raise StorageError(detail="this version was already committed or aborted")

    def _check_not_prepared(self) -> None:
        if self._prepared is not None:
            raise StorageError(detail="this version's inventory is already written (prepare); "
                               "no file can be added any more")

    def _check_new_logical_path(self, logical_path: str) -> None:
        inv.check_logical_path(logical_path)
        if logical_path in self._state:
            raise StorageError(detail=f"logical path {logical_path!r} is declared twice in this version")
        # OCFL 1.1 E095: no logical path may also be a directory of another one.
        if logical_path in self._dirs:
            raise StorageError(detail=f"logical path {logical_path!r} is also a directory of "
                               "another file in this version")
        parts = logical_path.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in self._state:
                raise StorageError(detail=f"logical path {logical_path!r} lies under the file "
                                   f"{'/'.join(parts[:i])!r} of this version")

    def content_target(self, logical_path: str) -> Path:
        """Where the caller writes the new file for `logical_path` (parent directories made)."""
        self._check_open()
        self._check_not_prepared()
        self._check_new_logical_path(logical_path)
        target = self._staged_version / self._content_dir / logical_path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def staged_path(self, logical_path: str) -> Path:
        """Where `content_target` put (or puts) the new file for `logical_path`."""
        return self._staged_version / self._content_dir / logical_path

    def known_digest(self, sha512: str) -> bool:
        """True if the object (earlier versions or this one so far) already holds this content."""
        lower = sha512.lower()
        return lower in self._manifest or lower in self._by_lower

    def add(self, logical_path: str, digests: Mapping[str, str], *, written: bool = True) -> bool:
        """Declare `logical_path` with its digests; True if its content is new to the object."""
        self._check_open()
        self._check_not_prepared()
        self._check_new_logical_path(logical_path)
        clean = self._check_digests(logical_path, digests)
        sha512 = self._by_lower.get(clean["sha512"], clean["sha512"])
        target = self._staged_version / self._content_dir / logical_path
        stored = False
        if sha512 in self._manifest:
            content_path = sorted(self._manifest[sha512])[0]
            self._check_fixity(content_path, clean)  # before anything is changed
            if written:
                try:
                    target.unlink()
                except FileNotFoundError:
                    raise StorageError(detail=f"add({logical_path!r}) says the file was written, "
                                       f"but {target} does not exist") from None
                log.debug("%s: content already held as %s", logical_path, content_path)
        elif not written:
            raise StorageError(detail=f"logical path {logical_path!r} was declared as already "
                               f"stored, but object {self.object_id!r} holds no content with "
                               f"sha512 {sha512}; write the file with content_target() first")
        else:
            if not target.is_file() or target.is_symlink():
                raise StorageError(detail=f"add({logical_path!r}) says the file was written, "
                                   f"but {target} is not a regular file")
            content_path = self._prefix + logical_path
            self._manifest[sha512] = [content_path]
            stored = True
        self._record_fixity(content_path, clean)
        self._state[logical_path] = sha512
        self._content_of[logical_path] = content_path
        parts = logical_path.split("/")
        self._dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return stored

    def content_path(self, logical_path: str) -> str:
        """The OCFL content path (relative to the object root) `logical_path` resolves to."""
        try:
            return self._content_of[logical_path]
        except KeyError:
            raise StorageError(detail=f"logical path {logical_path!r} was not added to this version") from None

    def _check_digests(self, logical_path: str, digests: Mapping[str, str]) -> dict[str, str]:
        clean = {alg.lower(): value.lower() for alg, value in digests.items()}
        for alg in REQUIRED_ALGORITHMS:
            if alg not in clean:
                raise StorageError(detail=f"no {alg} digest given for {logical_path!r}")
        for alg, value in clean.items():
            if not is_hex_digest(value, alg):
                raise StorageError(detail=f"{value!r} is not a {alg} digest (for {logical_path!r})")
        return clean

    def _check_fixity(self, content_path: str, digests: Mapping[str, str]) -> None:
        """Digests given for content already held must agree with those recorded for it."""
        for alg, value in digests.items():
            name = inv.FIXITY_NAMES.get(alg)
            other = self._fixity_of.get(name, {}).get(content_path) if name else None
            if other is not None and other.lower() != value:
                raise StorageError(detail=f"{name} digest {value} given for {content_path!r} "
                                       f"differs from the {other} already recorded for the same "
                                       "content; the digests given are wrong")

    def _record_fixity(self, content_path: str, digests: Mapping[str, str]) -> None:
        for alg, value in sorted(digests.items()):
            name = inv.FIXITY_NAMES.get(alg)
            if name is None:
                if alg != inv.DIGEST_ALGORITHM:
                    log.debug("no OCFL fixity name for %s; not recorded in the inventory", alg)
                continue
            recorded = self._fixity_of.setdefault(name, {})
            if content_path in recorded:
                continue  # already recorded (checked to agree by _check_fixity)
            self._fixity.setdefault(name, {}).setdefault(value, []).append(content_path)
            recorded[content_path] = value

    # --- committing ------------------------------------------------------------------------

    def _check_staged_content(self) -> None:
        """Every file under the staged content directory is declared; empty dirs go (E024)."""
        content_root = self._staged_version / self._content_dir
        if not content_root.exists():
            return
        for dirpath, dirnames, filenames in os.walk(content_root, topdown=False):
            for name in filenames:
                # Declared as new content: add() gave it this very content path.
                logical = Path(dirpath, name).relative_to(content_root).as_posix()
                if self._content_of.get(logical) != self._prefix + logical:
                    raise StorageError(detail=f"{Path(dirpath, name)} was written into the staged "
                                       "version but never declared with add(); nothing was committed")
            for name in dirnames:
                try:
                    Path(dirpath, name).rmdir()
                except OSError:
                    pass  # not empty: it holds declared content
        if not any(content_root.iterdir()):
            content_root.rmdir()  # OCFL 1.1 W003: no empty content directory

    def _inventory(self, created: dt.datetime, message: str, user_name: str,
                   user_address: str | None) -> dict[str, Any]:
        if created.tzinfo is None or created.utcoffset() is None:
            raise StorageError(detail="the version's created time must carry a timezone (RFC 3339)")
        if not user_name:
            raise StorageError(detail="the version's user name must not be empty")
        user: dict[str, str] = {"name": user_name}
        if user_address:
            user["address"] = user_address
        state: dict[str, list[str]] = {}
        for logical_path, sha512 in self._state.items():
            state.setdefault(sha512, []).append(logical_path)
        versions = copy.deepcopy(self._previous["versions"]) if self._previous else {}
        versions[inv.version_name(self.version)] = {
            "created": created.isoformat(),
            "message": message,
            "user": user,
            "state": state,
        }
        result: dict[str, Any] = {
            "id": self.object_id,
            "type": inv.INVENTORY_TYPE,
            "digestAlgorithm": inv.DIGEST_ALGORITHM,
            "head": inv.version_name(self.version),
            "contentDirectory": self._content_dir,
            "manifest": self._manifest,
            "versions": versions,
        }
        if self._fixity:
            result["fixity"] = self._fixity
        return result

    def prepare(self, *, created: dt.datetime, message: str, user_name: str,
                user_address: str | None = None) -> str:
        """Write the version's and the new root inventory into staging and flush everything
        staged; returns the sha512 of the inventory. Nothing in the storage root changes.

        Split from `commit` so that a caller can record what it is about to move in (an
        ingest's intent record, see preserve.ingest.recovery) between the two. The version's
        inventory is written as a stream and hashed on the way (OCFL 1.1 section 3.5.6), the
        root copy copied from it: its text is never held whole, which for 200,000 files would
        be over 100 MB (docs/performance.md, "Memory per file").
        """
        self._check_open()
        self._check_staged_content()
        inventory = self._inventory(created, message, user_name, user_address)
        version_inventory = self._staged_version / inv.INVENTORY
        root_inventory = self._staged_object / inv.INVENTORY
        try:
            for path in (version_inventory, self._staged_version / inv.SIDECAR, root_inventory,
                         self._staged_object / inv.SIDECAR, self._staged_object / inv.OBJECT_NAMASTE):
                path.unlink(missing_ok=True)  # left by an earlier, failed prepare
            hasher = hashlib.sha512()
            write_new_pieces(version_inventory, _hashed(inv.iter_serialized(inventory), hasher))
            del inventory
            digest = hasher.hexdigest()
            write_new(self._staged_version / inv.SIDECAR, inv.sidecar_for(digest))
            write_new_pieces(root_inventory, _pieces_of(version_inventory))
            write_new(self._staged_object / inv.SIDECAR, inv.sidecar_for(digest))
            if self._previous is None:
                write_new(self._staged_object / inv.OBJECT_NAMASTE,
                          inv.OBJECT_NAMASTE_CONTENT.encode("ascii"))
            fsync_tree(self._staged_object)
        except OSError as exc:
            raise StorageError(detail=f"writing the inventory of {inv.version_name(self.version)} "
                               f"of object {self.object_id!r} into staging failed: "
                               f"{exc.strerror or exc}; nothing was committed (check free space "
                               "and the disk)") from None
        self._prepared = digest
        return digest

    def commit(self, *, created: dt.datetime | None = None, message: str = "",
               user_name: str = "", user_address: str | None = None) -> Path:
        """Move the version into the storage root (see module doc), after `prepare` (which is
        called here with these arguments if the caller did not call it)."""
        self._check_open()
        if self._prepared is None:
            if created is None:
                raise StorageError(detail="commit() needs created/message/user_name unless "
                                   "prepare() was called")
            self.prepare(created=created, message=message, user_name=user_name,
                         user_address=user_address)
        digest = self._prepared
        assert digest is not None
        try:
            if self._previous is None:
                self._move_new_object()
            else:
                self._move_new_version(digest)
        except OSError as exc:
            raise StorageError(detail=f"committing {inv.version_name(self.version)} of object "
                               f"{self.object_id!r} failed: {exc}. The version may be partly "
                               "moved in: fix the cause, then run the same ingest again (it "
                               "completes the commit) or `preserve check`") from None
        self._done = True
        log.info("committed %s of object %r at %s", inv.version_name(self.version),
                 self.object_id, self._object_path)
        return self._object_path

    def _move_new_object(self) -> None:
        """One rename puts the object in place, with any layout directories it needs.

        The 0004 layout nests an object three directories deep. Making those in the root
        first and renaming the object second would leave empty directories in the storage
        hierarchy if a crash came between (OCFL 1.1 E073: the root would be invalid). So the
        missing part of the chain is built in staging around the object and its top is the
        one thing renamed into the root.
        """
        target = self._object_path
        # A rename onto an existing empty directory would succeed silently, so look first.
        if os.path.lexists(target):
            raise StorageError(detail=f"object {self.object_id!r} appeared at {target} while this "
                               "version was staged; nothing was changed. Ingest again as a new "
                               "version of that object if that is what is meant")
        top = target
        while not top.parent.exists():
            top = top.parent
        moving = self._staged_object
        if top != target:
            chain = self._staging_dir / "layout" / target.relative_to(top.parent)
            chain.parent.mkdir(parents=True)
            os.rename(self._staged_object, chain)
            for directory in [chain.parent, *chain.parent.parents]:
                fsync_dir(directory)
                if directory == self._staging_dir:
                    break
            moving = self._staging_dir / "layout" / top.name
        try:
            os.rename(moving, top)
        except OSError as exc:
            raise StorageError(detail=f"cannot move the staged object into {top}: {exc}; "
                               "nothing was changed") from None
        fsync_dir(top.parent)
        fsync_dir(self._staging_dir)

    def _move_new_version(self, digest: str) -> None:
        target = self._object_path
        try:
            _current, current_digest = inv.load(target)
        except StorageError as exc:
            raise StorageError(detail=f"object {self.object_id!r} cannot be updated: {exc.message}") from None
        if current_digest != self._previous_digest:
            raise StorageError(detail=f"object {self.object_id!r} changed while this version was "
                               "staged (another writer?); nothing was changed. Start the new "
                               "version again")
        version_dir = target / inv.version_name(self.version)
        if os.path.lexists(version_dir):
            raise StorageError(detail=f"{version_dir} already exists but the root inventory does "
                               "not list it (an interrupted commit?); nothing was changed. Move it "
                               "aside after checking it, then try again")
        try:
            os.rename(self._staged_version, version_dir)
        except OSError as exc:
            raise StorageError(detail=f"cannot move the staged version into {version_dir}: {exc}; "
                               "nothing was changed") from None
        fsync_dir(target)
        # The commit point: the root inventory names the new head. Its sidecar follows; the
        # head version's own inventory + sidecar (just moved in) are complete either way.
        # Copied from the staged one in pieces (the text of a large object is never held).
        write_atomic(target / inv.INVENTORY, _pieces_of(self._staged_object / inv.INVENTORY),
                     temp_dir=self._staging_dir)
        write_atomic(target / inv.SIDECAR, inv.sidecar_for(digest), temp_dir=self._staging_dir)
        fsync_dir(target)

    def abort(self) -> None:
        """Forget this version: remove what was staged. The storage root is never touched."""
        if self._done:
            return
        self._done = True
        shutil.rmtree(self._staged_object, ignore_errors=True)
        shutil.rmtree(self._staging_dir / "layout", ignore_errors=True)
        log.info("aborted %s of object %r", inv.version_name(self.version), self.object_id)



def _hashed(pieces: Iterable[bytes], hasher: Any) -> Iterator[bytes]:
    """`pieces`, fed to `hasher` as they pass."""
    for piece in pieces:
        hasher.update(piece)
        yield piece


def _pieces_of(path: Path) -> Iterator[bytes]:
    """The bytes of the file `path`, 1 MiB at a time."""
    with open(path, "rb") as source:
        while piece := source.read(1 << 20):
            yield piece
