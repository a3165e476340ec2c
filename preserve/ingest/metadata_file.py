"""A descriptive metadata file given on the command line (`describe --metadata FILE`,
`ingest --metadata FILE`; issue 16 §3, docs/metadata.md).

The file is one of the three kinds a deposit may carry in its tag files: the descriptive CSV
(docs/metadata.md), Dublin Core XML, or MODS 3 XML. Which one is decided by its content, not
its name: XML whose root is in the MODS namespace is MODS, other XML is read as Dublin Core,
anything else as CSV. It is read by the same parsers as a deposit's own files
(`preserve.ingest.supplied.read_supplied`), but a file named on purpose that yields nothing
usable is an error (META-E010), not the warning a deposit's stray file gets: the user asked
for this description, so storing a version without it would be wrong.

The file itself is kept in the new version, byte-exact, at `metadata/supplied/<its name>`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from preserve.findings import finding
from preserve.ingest.supplied import read_supplied
from preserve.metadata import DcValue, SchemaSet
from preserve.metadata.descriptive import DESCRIPTIVE_CSV_PATHS
from preserve.metadata.namespaces import MODS
from preserve.metadata.supplied import DC_XML_PATH, MODS_XML_PATH, parse_untrusted
from preserve.model import Finding, Severity
from preserve.names import portable_name
from preserve.safeio import read_regular

SUPPLIED_DIR = "metadata/supplied/"
#: The largest metadata file read (the XML parsers refuse more than 16 MB anyway).
MAX_METADATA_BYTES = 64 * 2**20


@dataclass(frozen=True, slots=True)
class MetadataFile:
    """A metadata file read: what it describes, and how it is kept in the version."""

    source: Path
    kind: str  # "csv" | "dc" | "mods"
    data: bytes
    descriptive: tuple[DcValue, ...]  # Dublin Core values (csv, dc); () for mods
    mods: bytes | None
    findings: tuple[Finding, ...]  # META-E010 when unusable, warnings otherwise

    @property
    def usable(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def logical_path(self) -> str:
        """Where the version keeps the file: its own name made portable (no path)."""
        return SUPPLIED_DIR + portable_name(self.source.name)

    def as_dict(self) -> dict[str, object]:
        return {"file": str(self.source), "kind": self.kind,
                "values": len(self.descriptive), "mods": self.mods is not None}


def kind_of(data: bytes) -> str:
    """csv, dc or mods, from the content (see the module docstring)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return "csv"
    root, _problems = parse_untrusted(data, "probe")
    if root is not None and isinstance(root.tag, str) and root.tag.startswith(f"{{{MODS}}}"):
        return "mods"
    return "dc"


def read_metadata_file(path: Path, schemas: SchemaSet | None,
                       created: dt.datetime) -> MetadataFile:
    """Read and check `path`; an unusable file gives a META-E010 finding (never raises)."""
    shown = str(path)
    try:
        data = read_regular(path, MAX_METADATA_BYTES)
    except OSError as exc:
        return MetadataFile(path, "unknown", b"", (), None, (
            finding("META-E010", shown, file=shown, why=f"it cannot be read ({exc.strerror or exc})"),))
    kind = kind_of(data)
    canonical = {"csv": DESCRIPTIVE_CSV_PATHS[0], "dc": DC_XML_PATH, "mods": MODS_XML_PATH}[kind]
    supplied = read_supplied({canonical: data}, [canonical], schemas, created)
    # The parsers name the tag path a deposit would use; the user named this file.
    said = [dataclasses.replace(f, path=shown, message=f.message.replace(canonical, shown))
            for f in supplied.findings]
    problems = [f for f in said if f.code in ("META-W003", "META-W005")]
    kept = [f for f in said if f not in problems]
    why = "; ".join(f.message for f in problems)
    if kind == "mods" and supplied.mods is None and not why:
        why = "it is not a MODS document"
    elif kind != "mods" and not supplied.descriptive and not why:
        why = ("it holds no Dublin Core value (a header row of element names and at least one "
               "row of values)" if kind == "csv" else "it holds no Dublin Core element")
    if why:
        kept.append(finding("META-E010", shown, file=shown, why=why))
    return MetadataFile(path, kind, data, tuple(supplied.descriptive), supplied.mods,
                        tuple(kept))
