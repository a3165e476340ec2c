"""Full validation of an OCFL object before the catalog adopts it, and the rows it yields.

An object nobody recorded is trusted only after every byte was read back (DESIGN.md,
"Rules": storage is the truth for content, but only storage that proves itself):

1. the root inventory against its sidecar (OCFL 1.1 section 3.5.6), its type, digest
   algorithm (sha512) and id, which must map to this very path under the 0004 layout; the
   object declaration (section 3.1); every version inventory present against its sidecar,
   the head version's identical to the root's (section 3.5.5);
2. no file the manifest does not list besides the object's own bookkeeping (section 3.1),
   every content file present and a regular file, its sha512 equal to the manifest's and its
   sha256 to the fixity block's, if any (section 3.5.1, 3.5.4);
3. each version's logical state is a complete bag (DESIGN.md, "Storage"; RFC 8493 section 3):
   `bagit.txt`, payload manifests (sha256, sha512) listing exactly the payload with the
   digests just verified, tag manifests agreeing with the tag files, Payload-Oxum;
4. each version's `metadata/mets.xml` parses as METS and, when schemas are configured, is
   valid against METS 1.12.1 / PREMIS 3.0. Its PRONOM ids become the files' formats and its
   PREMIS events the object's history (`VerifiedObject.history`).

Any failure is an `ObjectInvalid` naming the first problem; nothing is written here. The
object is read through a storage `Location` (inventories as `Inventory` values, content
streamed with `open_read`), never through filesystem paths.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from preserve import checksums
from preserve.catalog import AdoptedVersion, AdoptionRecord, StoredFile
from preserve.checksums import MultiHasher
from preserve.deposit.tagfiles import (
    decode_tag_file,
    parse_bagit_txt,
    parse_manifest,
    parse_oxum,
    parse_tag_file,
)
from preserve.errors import PreserveError, StorageError
from preserve.metadata import SchemaSet
from preserve.metadata.history import read_record
from preserve.metadata.premis import FileFormat, PremisEvent
from preserve.model import Severity
from preserve.storage import inventory as inv
from preserve.storage import object_path_for
from preserve.storage.listing import is_structural
from preserve.storage.location import Location, LocationError, StoredFileMissing

log = logging.getLogger(__name__)

METS_PATH = "metadata/mets.xml"
MAX_TAG_BYTES = 2**31  # a 20,000-file version has manifests and a METS of tens of MB
MANIFEST_ALGORITHMS = ("sha256", "sha512")


class ObjectInvalid(Exception):
    """The object failed validation; the message says where first."""


@dataclass(frozen=True, slots=True)
class VerifiedObject:
    """An object that passed every check, with what the catalog needs to record it."""

    object_id: str
    head: int
    inventory_digest: str  # sha512 of the root inventory verified
    content_files: int
    content_bytes: int
    mets_validated: bool  # False: parsed only (no schemas configured)
    #: every PREMIS event the versions' METS carry, once, with the version that first has it
    history: tuple[tuple[int, PremisEvent], ...]

    adoption: Callable[[int, str], AdoptionRecord]  # (catalog head, location) -> rows


def payload_fingerprint(payload: Sequence[StoredFile]) -> str:
    """The payload fingerprint ingest records (`checksums.payload_fingerprint`), so duplicate
    detection covers adopted packages too."""
    return checksums.payload_fingerprint((f.path.removeprefix("data/"), f.sha512)
                                         for f in payload)


def verify_object(location: Location, relative: str, schemas: SchemaSet | None,
                  progress: Callable[[int], None] | None = None) -> VerifiedObject:
    """Validate the object at `relative` (its path from the storage root) of `location`
    (steps 1-4 of the module doc)."""
    try:
        return _verify(location, relative, schemas, progress)
    except ObjectInvalid:
        raise
    except PreserveError as exc:
        raise ObjectInvalid(exc.message) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ObjectInvalid(f"{type(exc).__name__}: {exc}") from None


def _verify(location: Location, relative: str, schemas: SchemaSet | None,
            progress: Callable[[int], None] | None) -> VerifiedObject:
    # 1. inventories and declaration
    inventory, digest = inv.read(location, relative)
    object_id = inventory.id
    if inventory.type != inv.INVENTORY_TYPE:
        raise ObjectInvalid(f"inventory type {inventory.type!r} is not OCFL 1.1")
    if inventory.digest_algorithm != inv.DIGEST_ALGORITHM:
        raise ObjectInvalid(f"digest algorithm {inventory.digest_algorithm!r}, not sha512")
    if object_path_for(object_id) != relative:
        raise ObjectInvalid(f"its inventory names object {object_id!r}, whose path under the "
                            f"0004 layout is {object_path_for(object_id)}")
    present = {entry.path[len(relative) + 1:] for entry in location.iter_entries(f"{relative}/")}
    try:
        declared = location.read_bytes(f"{relative}/{inv.OBJECT_NAMASTE}", 64)
    except LocationError:
        declared = b""
    if declared != inv.OBJECT_NAMASTE_CONTENT.encode("ascii"):
        raise ObjectInvalid(f"{inv.OBJECT_NAMASTE} does not hold the OCFL 1.1 declaration")
    head = inventory.head
    numbers = sorted(inventory.states)
    versions = [inv.version_name(number) for number in numbers]
    if numbers != list(range(1, head + 1)):
        raise ObjectInvalid(f"versions {versions} are not v1..v{head} without gaps")
    for name in versions:
        if not any(path.startswith(f"{name}/") for path in present):
            raise ObjectInvalid(f"version directory {name} is missing")
        if f"{name}/{inv.INVENTORY}" in present:
            _version_inventory, version_digest = inv.read(location, f"{relative}/{name}")
            if inv.version_number(name) == head and version_digest != digest:
                raise ObjectInvalid(f"{name}/{inv.INVENTORY} differs from the root inventory")

    # 2. the files: nothing unlisted, everything listed present with the right digests
    manifest = {path: d.lower() for path, d in inventory.content_digests().items()}
    fixity_sha256 = {path: d.lower()
                     for d, paths in inventory.fixity.get("sha256", {}).items()
                     for path in paths}
    for entry in sorted(present):
        if entry not in manifest and not is_structural(entry, versions):
            raise ObjectInvalid(f"{entry} is not in the inventory's manifest")
    sizes: dict[str, int] = {}
    sha256: dict[str, str] = {}
    for content_path in sorted(manifest):
        parts = content_path.split("/")
        if any(p in ("", ".", "..") for p in parts) or parts[0] not in versions:
            raise ObjectInvalid(f"manifest content path {content_path!r} is not allowed")
        try:
            size, digests = _hash_stored(location, f"{relative}/{content_path}", progress)
        except StoredFileMissing:
            raise ObjectInvalid(f"content file {content_path} is missing") from None
        except (LocationError, OSError) as exc:
            reason = exc.message if isinstance(exc, LocationError) else str(exc)
            raise ObjectInvalid(f"content file {content_path} cannot be read as a regular "
                                f"file: {reason}") from None
        if digests["sha512"] != manifest[content_path]:
            raise ObjectInvalid(f"content file {content_path} has sha512 {digests['sha512']}, "
                                f"the manifest says {manifest[content_path]}")
        expected = fixity_sha256.get(content_path)
        if expected is not None and digests["sha256"] != expected:
            raise ObjectInvalid(f"content file {content_path} has sha256 {digests['sha256']}, "
                                f"the fixity block says {expected}")
        sizes[content_path], sha256[content_path] = size, digests["sha256"]
    by_digest = {d.lower(): sorted(paths)[0] for d, paths in inventory.manifest.items()}

    # 3. and 4. each version is a bag with a METS
    built: list[tuple[int, dt.datetime, str, tuple[StoredFile, ...], dict[str, bytes]]] = []
    history: dict[str, tuple[int, PremisEvent]] = {}
    for number, name in zip(numbers, versions, strict=True):
        state = inventory.states[number]
        files: list[StoredFile] = []
        tags: dict[str, bytes] = {}
        logical_digests: dict[str, dict[str, str]] = {}
        for state_digest, paths in state.items():
            listed = by_digest.get(state_digest.lower())
            if listed is None:
                raise ObjectInvalid(f"{name} state names digest {state_digest} that the "
                                    "manifest lacks")
            for logical in paths:
                inv.check_logical_path(logical)
                logical_digests[logical] = {"sha512": state_digest.lower(),
                                            "sha256": sha256[listed]}
                files.append(StoredFile(path=logical, size=sizes[listed],
                                        sha256=sha256[listed],
                                        sha512=state_digest.lower(), content_path=listed))
                if not logical.startswith("data/"):
                    tags[logical] = location.read_bytes(f"{relative}/{listed}",
                                                        MAX_TAG_BYTES)
        _check_bag(name, files, tags, logical_digests)
        formats = _check_mets(name, tags.get(METS_PATH), schemas)
        files = [StoredFile(path=f.path, size=f.size, sha256=f.sha256, sha512=f.sha512,
                            content_path=f.content_path, format=_puid(formats.get(f.path)),
                            format_name=_name(formats.get(f.path)),
                            format_version=_version(formats.get(f.path)))
                 for f in sorted(files, key=lambda f: f.path)]
        for event in read_record(tags[METS_PATH]).events:
            history.setdefault(f"{event.identifier_type} {event.identifier}", (number, event))
        built.append((number, _created(inventory.created.get(number, ""), number),
                      inventory.messages.get(number, ""), tuple(files), tags))

    title = read_record(built[-1][4][METS_PATH]).label
    # Identifiers accumulate over versions, as ingest records them.
    identifiers = tuple(dict.fromkeys(i for *_rest, tags in built for i in _identifiers(tags)))

    pinned = {number: _inventory_digest(location, relative, number)
              for number, *_rest in built}

    def adoption(catalog_head: int, location: str) -> AdoptionRecord:
        return AdoptionRecord(
            package_id=object_id, title=title, external_identifiers=identifiers,
            location=location,
            versions=tuple(
                AdoptedVersion(number=number, created=created, message=message,
                               payload_fingerprint=payload_fingerprint(
                                   [f for f in files if f.path.startswith("data/")]),
                               files=files,
                               inventory_sha512=pinned[number])
                for number, created, message, files, _tags in built if number > catalog_head))

    return VerifiedObject(object_id=object_id, head=head, inventory_digest=digest,
                          content_files=len(manifest),
                          content_bytes=sum(sizes.values()), mets_validated=schemas is not None,
                          history=tuple(history.values()),
                          adoption=adoption)






def _text(tags: dict[str, bytes], path: str, version: str) -> str:
    if path not in tags:
        raise ObjectInvalid(f"{version} has no {path}: it is not a complete bag")
    text, problems = decode_tag_file(tags[path], "utf-8", path)
    if text is None or any(p.severity is Severity.ERROR for p in problems):
        raise ObjectInvalid(f"{version}/{path} is not UTF-8 text")
    return text


def _check_bag(version: str, files: Sequence[StoredFile], tags: dict[str, bytes],
               digests: dict[str, dict[str, str]]) -> None:
    """RFC 8493 section 3 on the logical state, with the digests verified in step 2."""
    _declaration, problems = parse_bagit_txt(tags.get("bagit.txt", b""))
    if "bagit.txt" not in tags or any(p.severity is Severity.ERROR for p in problems):
        raise ObjectInvalid(f"{version}/bagit.txt is missing or not a bag declaration")
    payload = {f.path for f in files if f.path.startswith("data/")}
    for algorithm in MANIFEST_ALGORITHMS:
        name = f"manifest-{algorithm}.txt"
        entries, problems = parse_manifest(_text(tags, name, version), name, algorithm, True)
        if problems:
            raise ObjectInvalid(f"{version}/{name}: {problems[0].message}")
        if set(entries) != payload:
            extra = sorted(set(entries) ^ payload)[0]
            raise ObjectInvalid(f"{version}/{name} and the version's payload differ on {extra}")
        for path, expected in entries.items():
            if digests[path][algorithm] != expected:
                raise ObjectInvalid(f"{version}/{name} says {algorithm} {expected} for {path}, "
                                    "the stored file has another")
        tag_name = f"tagmanifest-{algorithm}.txt"
        if tag_name in tags:
            listed, problems = parse_manifest(_text(tags, tag_name, version), tag_name,
                                              algorithm, False)
            if problems:
                raise ObjectInvalid(f"{version}/{tag_name}: {problems[0].message}")
            for path, expected in listed.items():
                if path not in digests or digests[path][algorithm] != expected:
                    raise ObjectInvalid(f"{version}/{tag_name} does not match {path}")
    info, _problems = parse_tag_file(_text(tags, "bag-info.txt", version), "bag-info.txt")
    oxum = [v for k, v in info if k.lower() == "payload-oxum"]
    if oxum:
        parsed = parse_oxum(oxum[0])
        actual = (sum(f.size for f in files if f.path in payload), len(payload))
        if parsed != actual:
            raise ObjectInvalid(f"{version}/bag-info.txt Payload-Oxum {oxum[0]!r} does not match "
                                f"the payload ({actual[0]}.{actual[1]})")


def _check_mets(version: str, document: bytes | None,
                schemas: SchemaSet | None) -> dict[str, FileFormat]:
    if document is None:
        raise ObjectInvalid(f"{version} has no {METS_PATH}")
    if schemas is not None:
        problems = schemas.validate_mets(document)
        if problems:
            raise ObjectInvalid(f"{version}/{METS_PATH} is not valid METS: {problems[0]}")
    try:
        return {path: f for path, f in read_record(document).formats.items() if f.puid}
    except ValueError as exc:
        raise ObjectInvalid(f"{version}/{METS_PATH} cannot be parsed: {exc}") from None


def _puid(known: FileFormat | None) -> str | None:
    return known.puid if known is not None else None


def _name(known: FileFormat | None) -> str:
    """PRONOM's format name as the stored METS gives it (PREMIS 3.0 1.5.4.1.1 formatName)."""
    return known.name if known is not None else ""


def _version(known: FileFormat | None) -> str:
    return known.version if known is not None else ""


def _identifiers(tags: dict[str, bytes]) -> list[str]:
    """External-Identifier values of a version's bag-info.txt (kept from the deposit's)."""
    try:
        info, _ = parse_tag_file(tags["bag-info.txt"].decode("utf-8"), "bag-info.txt")
    except (KeyError, UnicodeDecodeError):
        return []
    return [v for k, v in info if k.lower() == "external-identifier"]


def _hash_stored(location: Location, path: str,
                 progress: Callable[[int], None] | None) -> tuple[int, dict[str, str]]:
    """(size, {sha256, sha512}) of a stored file, in one streaming read."""
    hasher = MultiHasher(("sha256", "sha512"))
    with location.open_read(path) as stream:
        while block := stream.read(1 << 20):
            hasher.update(block)
            if progress:
                progress(len(block))
    return hasher.size, hasher.hexdigests()


def _created(text: str, number: int) -> dt.datetime:
    try:
        created = dt.datetime.fromisoformat(text)
    except ValueError:
        raise StorageError(detail=f"v{number} has no RFC 3339 created time") from None
    if created.tzinfo is None:
        raise StorageError(detail=f"v{number} created time has no timezone")
    return created.astimezone(dt.UTC)


def _inventory_digest(location: Location, relative: str, number: int) -> str | None:
    """The sha512 of version `number`'s own inventory (verified by its sidecar), to pin."""
    try:
        return inv.read(location, f"{relative}/{inv.version_name(number)}")[1]
    except StorageError:
        return None
