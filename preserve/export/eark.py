"""Writing an export as an E-ARK SIP 2.1 package, and reading one back (E-ARK CSIP 2.1 §4, §5).

`write_eark` fills a directory the caller made (a temporary name beside DEST; the caller
renames it once it is verified) with the layout `preserve.metadata.eark` documents. Payload
bytes are read once from storage and hashed while they are copied (`copy_and_hash`); a file
whose sha256, sha512 or size differs from the catalog stops the export (FixityError): storage
is verified, never trusted. Every document is built in memory by the pure builders, written
with O_EXCL, and its size and SHA-512 go into the METS that references it. The XSDs the
documents use are copied into `schemas/` from the schema directory (through its XML catalog)
when one is given. Nothing is synced here: the caller syncs the whole tree once.

`verify_eark` reads a written package back: both METS documents are parsed (no DTD, no
entities, no network), every `file` and `mdRef` they list must exist with the SIZE and
CHECKSUM given, and every file in the package must be listed (apart from the package METS
itself). It returns findings (`EARK-E001`..`EARK-E004`), never raises for a bad package.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote_to_bytes

from preserve import SOFTWARE_NAME, __version__
from preserve.checksums import copy_and_hash, copy_stream_and_hash, hash_file
from preserve.errors import FixityError, InvalidMetadata, StorageError
from preserve.export.source import PAYLOAD_PREFIX, ExportFile, ExportSource, organization_agent
from preserve.findings import finding
from preserve.metadata import DcValue, eark
from preserve.metadata import namespaces as ns
from preserve.metadata.eark import MetsReference, PackagedFile, PackageHeader, PremisFile
from preserve.metadata.schemas import SchemaSet
from preserve.model import Finding, software_agent

log = logging.getLogger(__name__)

ByteProgress = Callable[[int], None]
ALGORITHMS = ("sha256", "sha512")
_DIR_MODE = 0o755
_FILE_MODE = 0o644
_MAX_METS_BYTES = 1 << 30
_XSD_MIME = "application/xml"


def write_eark(source: ExportSource, target: Path, schemas: SchemaSet | Path | None,
               progress: ByteProgress | None = None, *,
               objid: str | None = None) -> list[Finding]:
    """Write `source` as an E-ARK SIP into the empty (or not yet existing) directory `target`.

    `schemas` (a SchemaSet, or the directory of one) validates both METS documents before
    they are written and supplies the XSDs for `schemas/`; without it the package has no
    `schemas/` and the returned findings hold warning META-W004. `progress` is called with
    the number of payload bytes just copied. Raises FixityError if a stored file does not
    match the catalog, StorageError if storage cannot be read or the target cannot be
    written, InvalidMetadata if a METS document fails its schema. The caller syncs, reads
    back (`verify_eark`) and renames; on error it removes `target`.
    """
    target = Path(target)
    schema_set = SchemaSet.from_directory(schemas) if isinstance(schemas, (str, Path)) \
        else schemas
    findings: list[Finding] = []
    if schema_set is None:
        findings.append(finding("META-W004", eark.METS_FILE))
    try:
        target.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        if any(target.iterdir()):
            raise StorageError(detail=f"{target} is not empty; an E-ARK export is written into "
                               "a new directory")
    except OSError as exc:
        raise StorageError(detail=f"cannot create {target}: {exc.strerror or exc}") from exc
    created = source.created
    header = PackageHeader(
        package_id=source.package_id, version=source.version, created=created,
        label=source.title, organization=source.organization, software_name=SOFTWARE_NAME,
        software_version=__version__, content_category=eark.content_category(source.dc_values),
        objid=objid)
    writer = _Writer(target, created)

    # The representation: payload, its PREMIS file objects, its METS.
    rep = eark.REPRESENTATION_DIR
    data = [writer.copy_payload(f, progress) for f in sorted(source.files, key=lambda f: f.path)]
    rep_premis = writer.write(f"{rep}/{eark.PREMIS_PATH}", eark.build_representation_premis(
        package_id=source.package_id, version=source.version,
        files=[PremisFile(f.path, f.size, f.sha256, f.sha512, f.format) for f in source.files]),
        eark.XML_MIME, mdtype="PREMIS", mdtype_version="3.0")
    rep_mets = writer.write(f"{rep}/{eark.METS_FILE}", _valid(eark.build_representation_mets(
        header=header, preservation=[_relative(rep_premis, rep)],
        data=[_relative(item, rep) for item in data]), schema_set), eark.XML_MIME)

    # Package-level metadata, documentation and schemas, then the package METS.
    descriptive = [writer.write(eark.DC_PATH, eark.build_dc(
        package_id=source.package_id, title=source.title, external_ids=source.external_ids,
        dc_values=source.dc_values), eark.XML_MIME, mdtype="DC", mdtype_version="1.1")]
    if source.mods_xml is not None:
        descriptive.append(writer.write(eark.MODS_PATH, source.mods_xml, eark.XML_MIME,
                                        mdtype="MODS", mdtype_version="3.8"))
    agents = (software_agent(), organization_agent(source.organization))
    preservation = [writer.write(eark.PREMIS_PATH, eark.build_premis(
        package_id=source.package_id, version=source.version,
        external_ids=source.external_ids, events=source.events, agents=agents,
        rights=source.rights),
        eark.XML_MIME, mdtype="PREMIS", mdtype_version="3.0")]
    titles = [v for v in source.dc_values if v.element == "title"]
    if not titles and source.title:
        titles = [DcValue("title", source.title)]
    documentation = [writer.write(eark.README_PATH, eark.build_readme(
        header=header, titles=titles, file_count=len(source.files),
        payload_bytes=source.payload_bytes, events=len(source.events)), "text/plain")]
    xsds = writer.copy_schemas(schema_set, mods=source.mods_xml is not None)
    writer.write(eark.METS_FILE, _valid(eark.build_package_mets(
        header=header, descriptive=descriptive, preservation=preservation,
        documentation=documentation, schemas=xsds, representation_mets=rep_mets), schema_set),
        eark.XML_MIME)
    return findings


def _valid(document: bytes, schema_set: SchemaSet | None) -> bytes:
    if schema_set is not None:
        problems = schema_set.validate_mets(document)
        if problems:
            raise InvalidMetadata(problems="; ".join(problems[:5]))
    return document


def verify_eark(target: Path) -> list[Finding]:
    """Read the package in `target` back against its METS documents (see module docstring)."""
    target = Path(target)
    findings: list[Finding] = []
    listed: set[bytes] = {eark.METS_FILE.encode()}
    pending: list[bytes] = [eark.METS_FILE.encode()]
    done: set[bytes] = set()
    while pending:
        mets_path = pending.pop()
        done.add(mets_path)
        shown = _shown(mets_path)
        try:
            references = eark.read_references(_read(target / os.fsdecode(mets_path)))
        except (OSError, ValueError) as exc:
            findings.append(finding("EARK-E004", path=shown, detail=str(exc)))
            continue
        base = mets_path.rpartition(b"/")[0]
        for reference in references:
            relative = _join(base, reference.href)
            if relative is None:
                findings.append(finding("EARK-E004", path=shown, detail=(
                    f"reference {reference.href!r} is not a relative path inside the package")))
                continue
            listed.add(relative)
            if reference.kind == "mptr":
                if relative not in done and relative not in pending:
                    pending.append(relative)
            else:
                findings.extend(_check_file(target, relative, reference))
    for relative in sorted(_walk(target)):
        if relative not in listed:
            findings.append(finding("EARK-E003", path=_shown(relative)))
    return findings


# --- writing ------------------------------------------------------------------------------


class _Writer:
    """Writes the files of one package under `root`, recording what METS says about each."""

    def __init__(self, root: Path, created: dt.datetime) -> None:
        self.root, self.created = root, created
        self._made: set[Path] = {root}

    def _parent(self, relative: str) -> Path:
        path = self.root / relative
        for parent in reversed(path.parents):
            if parent not in self._made and self.root in parent.parents:
                try:
                    os.mkdir(parent, _DIR_MODE)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise StorageError(detail=f"cannot create {parent}: "
                                       f"{exc.strerror or exc}") from exc
                self._made.add(parent)
        return path

    def write(self, relative: str, data: bytes, mime: str, mdtype: str = "",
              mdtype_version: str = "") -> PackagedFile:
        path = self._parent(relative)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            with open(fd, "wb") as out:
                out.write(data)
        except OSError as exc:
            raise StorageError(detail=f"cannot write {path}: {exc.strerror or exc}; nothing "
                               "was exported (check free space)") from exc
        return PackagedFile(relative, len(data), hashlib.sha512(data).hexdigest(), mime,
                            self.created, mdtype, mdtype_version)

    def copy_payload(self, item: ExportFile, progress: ByteProgress | None) -> PackagedFile:
        if not item.path.startswith(PAYLOAD_PREFIX):
            raise ValueError(f"payload path {item.path!r} is not under {PAYLOAD_PREFIX}")
        relative = f"{eark.REPRESENTATION_DIR}/{item.path}"
        path = self._parent(relative)
        try:
            with item.content.open() as stored:
                size, digests = copy_stream_and_hash(stored, path, ALGORITHMS, progress,
                                                     fsync=False)
        except OSError as exc:
            raise StorageError(detail=f"cannot read the stored content {item.content} of "
                               f"{item.path}: {exc.strerror or exc}; run `preserve audit`") from exc
        if size != item.size or digests["sha256"] != item.sha256 \
                or digests["sha512"] != item.sha512:
            raise FixityError(detail=(
                f"stored content {item.content} of {item.path} does not match its size or "
                "digests in the catalog; nothing was exported. Run `preserve audit` and "
                "restore the package from a good copy"))
        mime = item.format.mime if item.format is not None and item.format.mime else ""
        return PackagedFile(relative, size, digests["sha512"], mime or eark.UNKNOWN_MIME,
                            self.created)

    def copy_schemas(self, schema_set: SchemaSet | None, *, mods: bool) -> list[PackagedFile]:
        """Copy the XSDs the documents use into `schemas/`, found through the catalog."""
        if schema_set is None:
            log.warning("no schema directory: the E-ARK export has no schemas/ folder "
                        "(CSIP113)")
            return []
        catalog = schema_set.catalog
        # dc.xsd and mods-3-8.xsd import the xml: namespace schema from these URLs.
        urls = [ns.METS_SCHEMA_URL, ns.XLINK_SCHEMA_URL, ns.CSIP_SCHEMA_URL,
                ns.PREMIS_SCHEMA_URL, ns.DC_SCHEMA_URL, "http://www.w3.org/2001/03/xml.xsd"]
        if mods:
            urls += [ns.MODS_SCHEMA_URL, "http://www.loc.gov/mods/xml.xsd"]
        copied: list[PackagedFile] = []
        names: set[str] = set()
        for url in urls:
            local = catalog.lookup(url)
            if local is None or not local.is_file() or local.name in names:
                if local is None or not local.is_file():
                    log.warning("schema %s is not in %s; not copied", url,
                                schema_set.directory)
                continue
            names.add(local.name)
            relative = f"{eark.SCHEMAS_DIR}/{local.name}"
            try:
                size, digests = copy_and_hash(local, self._parent(relative), ("sha512",),
                                              fsync=False)
            except OSError as exc:
                raise StorageError(detail=f"cannot read schema {local}: {exc}") from exc
            copied.append(PackagedFile(relative, size, digests["sha512"], _XSD_MIME,
                                       self.created))
        return copied


def _relative(item: PackagedFile, folder: str) -> PackagedFile:
    """`item` with its path relative to `folder` (where the referencing METS lies)."""
    return PackagedFile(item.path.removeprefix(folder + "/"), item.size, item.sha512, item.mime,
                        item.created, item.mdtype, item.mdtype_version)


# --- reading back -------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(_MAX_METS_BYTES + 1)
    if len(data) > _MAX_METS_BYTES:
        raise ValueError(f"{path} is larger than {_MAX_METS_BYTES} bytes")
    return data


def _join(base: bytes, href: str) -> bytes | None:
    """The package-relative path (bytes, names exactly) an href names from the folder `base`;
    None if it is not a relative reference or leaves the package."""
    if href.startswith("/") or ":" in href.split("/")[0]:
        return None
    parts = [p for p in base.split(b"/") if p]
    for part in unquote_to_bytes(href).split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return b"/".join(parts) if parts else None


def _check_file(target: Path, relative: bytes, reference: MetsReference) -> list[Finding]:
    try:
        size, digests = hash_file(target / os.fsdecode(relative), ("sha512",))
    except OSError as exc:
        return [finding("EARK-E002", path=_shown(relative), detail=exc.strerror or str(exc))]
    problems: list[str] = []
    if reference.size is not None and reference.size != str(size):
        problems.append(f"{size} bytes, the METS says {reference.size}")
    if reference.checksum_type != eark.CHECKSUM_TYPE:
        problems.append(f"CHECKSUMTYPE {reference.checksum_type!r}, expected "
                        f"{eark.CHECKSUM_TYPE}")
    elif digests["sha512"] != (reference.checksum or "").lower():
        problems.append(f"sha512 {digests['sha512']}, the METS says {reference.checksum}")
    if problems:
        return [finding("EARK-E001", path=_shown(relative), detail="; ".join(problems))]
    return []


def _shown(relative: bytes) -> str:
    return relative.decode("utf-8", "surrogateescape")


def _walk(target: Path) -> Iterator[bytes]:
    """Every file under `target`, as a package-relative path in bytes (names exactly)."""
    root = os.fsencode(target)
    for folder, _dirs, files in os.walk(root):
        for name in files:
            yield os.path.relpath(os.path.join(folder, name), root).replace(os.sep.encode(), b"/")


def zip_package(folder: Path, target: Path) -> str:
    """The E-ARK package in `folder` as the new zip `target`, with `folder`'s name as its one
    top-level folder (CSIP: a package is one folder named for it), members stored
    uncompressed in name order with their sha512 recorded as they are written; then read
    back: every member's CRC-32 (zipfile checks it) and sha512 must match. Returns the
    sha256 of the zip file. StorageError if it cannot be written or does not read back."""
    written: dict[str, str] = {}
    top = folder.name
    try:
        with zipfile.ZipFile(target, "x", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for relative in sorted(_walk(folder)):
                name = f"{top}/{os.fsdecode(relative)}"
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (_FILE_MODE | 0o100000) << 16
                hasher = hashlib.sha512()
                with open(folder / os.fsdecode(relative), "rb") as source, \
                        archive.open(info, "w", force_zip64=True) as member:
                    while block := source.read(1 << 20):
                        hasher.update(block)
                        member.write(block)
                written[name] = hasher.hexdigest()
        whole = hashlib.sha256()
        with open(target, "rb") as raw:
            while block := raw.read(1 << 20):
                whole.update(block)
        with zipfile.ZipFile(target) as archive:
            names = archive.namelist()
            if sorted(names) != sorted(written):
                raise StorageError(detail=f"{target} holds other members than were written")
            for name in names:
                hasher = hashlib.sha512()
                with archive.open(name) as member:  # checks the CRC-32 too
                    while block := member.read(1 << 20):
                        hasher.update(block)
                if hasher.hexdigest() != written[name]:
                    raise StorageError(detail=f"{name} in {target} did not read back as written")
    except (OSError, zipfile.BadZipFile) as exc:
        raise StorageError(detail=f"cannot write the E-ARK zip {target}: {exc}") from exc
    return whole.hexdigest()
