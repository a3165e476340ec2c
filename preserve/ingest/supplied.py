"""The descriptive metadata a deposit supplies in its tag files, read once for ingest and
validate alike (so `validate` says what `ingest` will say).

Which files (DESIGN.md, "Metadata"; docs/design.md, ingest step 6): the descriptive CSV
(`metadata/descriptive.csv` or `metadata.csv`), then Dublin Core XML (`metadata/dc.xml`),
and MODS (`metadata/mods.xml`), which must also be valid MODS on its own, checked in an
otherwise empty METS: invalid metadata from a depositor is their warning (META-W005), not an
invalid METS of ours.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from preserve.deposit import Deposit, DepositKind, TagEntry
from preserve.errors import DepositRejected
from preserve.findings import finding
from preserve.metadata import DcValue, SchemaSet, build_mets
from preserve.metadata.descriptive import (
    DESCRIPTIVE_CSV_PATHS,
    find_descriptive_csv,
    read_descriptive_csv,
)
from preserve.metadata.namespaces import MODS, qname
from preserve.metadata.rights import RIGHTS_CSV_PATH
from preserve.metadata.supplied import (
    DC_XML_PATH,
    MODS_XML_PATH,
    parse_untrusted,
    read_dc_xml,
    read_mods_xml,
)
from preserve.model import Finding
from preserve.safeio import read_regular


@dataclass(slots=True)
class SuppliedMetadata:
    descriptive: list[DcValue] = field(default_factory=list)  # CSV values first, then DC XML
    mods: bytes | None = None
    findings: list[Finding] = field(default_factory=list)


def supplied_paths(tag_paths: Sequence[str]) -> set[str]:
    """The tag files `read_supplied` takes metadata from."""
    wanted = {DC_XML_PATH, MODS_XML_PATH}
    csv = find_descriptive_csv(list(tag_paths))
    if csv is not None:
        wanted.add(csv)
    return wanted & set(tag_paths)


def read_supplied(files: dict[str, bytes], tag_paths: Sequence[str],
                  schemas: SchemaSet | None, created: dt.datetime) -> SuppliedMetadata:
    """Descriptive values and MODS from `files` (tag path -> bytes), with their findings."""
    supplied = SuppliedMetadata()
    csv = find_descriptive_csv(list(tag_paths))
    if csv is not None and csv in files:
        values, problems = read_descriptive_csv(files[csv], csv)
        supplied.descriptive += values
        supplied.findings += problems
    if DC_XML_PATH in files:
        values, problems = read_dc_xml(files[DC_XML_PATH], DC_XML_PATH)
        supplied.descriptive += values
        supplied.findings += problems
    if MODS_XML_PATH in files:
        mods, problems = read_mods_xml(files[MODS_XML_PATH], MODS_XML_PATH)
        supplied.findings += problems
        supplied.mods = _valid_mods(mods, schemas, created, supplied.findings)
    return supplied


def _valid_mods(mods: bytes | None, schemas: SchemaSet | None, created: dt.datetime,
                findings: list[Finding]) -> bytes | None:
    if mods is None or schemas is None:
        return mods
    probe = build_mets(package_id="probe", version=1, created=created, files=[],
                       bag_info=[], software="probe", mods=mods)
    problems = schemas.validate_mets(probe)
    if not problems:
        return mods
    findings.append(finding("META-W005", MODS_XML_PATH, file=MODS_XML_PATH,
                            why="it is not valid MODS: " + "; ".join(problems[:3])))
    return None


def folder_metadata(deposit: Deposit) -> tuple[Deposit, list[Finding]]:
    """A plain folder's descriptive metadata files (`metadata/descriptive.csv` or
    `metadata.csv`, `metadata/dc.xml`, `metadata/mods.xml`) taken out of its payload and
    read as a bag's tag files are (issue 16 §3), each with a META-W006 saying so. Any other
    deposit is returned as it is."""
    if deposit.kind is not DepositKind.FOLDER:
        return deposit, []
    known = {DC_XML_PATH, MODS_XML_PATH, RIGHTS_CSV_PATH, *DESCRIPTIVE_CSV_PATHS}
    taken = [entry for entry in deposit.payload if entry.path in known]
    if not taken:
        return deposit, []
    kept = tuple(entry for entry in deposit.payload if entry.path not in known)
    tags = tuple(TagEntry(entry.path, entry.source, entry.size) for entry in taken)
    return (dataclasses.replace(deposit, payload=kept, tag_files=deposit.tag_files + tags),
            [finding("META-W006", entry.path, file=entry.path) for entry in taken])


#: Where a version keeps a descriptive metadata file given outside the deposit (`preserve
#: describe`, `ingest --metadata`): beside, not inside, the deposit's own tag files.
GIVEN_METADATA_DIR = "metadata/description"
_BROKEN = {"META-W003", "META-W005"}  # the file could not be read at all


@dataclass(frozen=True, slots=True)
class GivenMetadata:
    """A descriptive metadata file given on the command line, read and checked.

    `name` is the logical path it is kept under in the version (`metadata/description/` +
    descriptive.csv, dc.xml or mods.xml, by what it holds); `kind` says which."""

    name: str
    kind: str  # "csv" | "dc" | "mods"
    data: bytes
    supplied: SuppliedMetadata


def read_given_metadata(source: Path, schemas: SchemaSet | None, created: dt.datetime,
                        max_bytes: int) -> GivenMetadata:
    """Read `source` as a descriptive CSV (by its `.csv` name), or as Dublin Core or MODS
    XML (by its root element); DepositRejected with META-E001 when it cannot serve as the
    package's description (unreadable, invalid MODS, or no descriptive values at all).
    Warnings (an unknown column, a malformed language tag) stay warnings."""
    shown = str(source)
    try:
        data = read_regular(source, max_bytes)
    except OSError as error:  # a symlink, not a regular file, too large, unreadable
        raise _refused(shown, f"it cannot be read as a regular file of at most {max_bytes} "
                       f"bytes ({error.strerror or error})") from None
    if source.name.lower().endswith(".csv"):
        kind, name = "csv", DESCRIPTIVE_CSV_PATHS[0]
    else:
        root, problems = parse_untrusted(data, shown)
        if root is None:
            raise _refused(shown, problems[0].message if problems else "it is not XML")
        is_mods = root.tag in (qname(MODS, "mods"), qname(MODS, "modsCollection"))
        kind, name = ("mods", MODS_XML_PATH) if is_mods else ("dc", DC_XML_PATH)
    supplied = read_supplied({name: data}, [name], schemas, created)
    broken = [f for f in supplied.findings if f.code in _BROKEN]
    if broken:
        raise _refused(shown, broken[0].message)
    if not supplied.descriptive and supplied.mods is None:
        raise _refused(shown, "it holds no descriptive values (no Dublin Core element with "
                       "a value, no MODS record)")
    # Findings name the file by its path on the command line, not the name in the version.
    supplied.findings[:] = [dataclasses.replace(f, path=shown) for f in supplied.findings]
    return GivenMetadata(f"{GIVEN_METADATA_DIR}/{name.rsplit('/', 1)[-1]}", kind, data,
                         supplied)


def _refused(path: str, why: str) -> DepositRejected:
    return DepositRejected(path=path, findings=(finding("META-E001", path, file=path,
                                                        why=why.rstrip(".")),))
