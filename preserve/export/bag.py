"""The BagIt 1.0 bag an export writes (RFC 8493), as a list of entries in a fixed order.

```
bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sha512.txt
metadata/mets.xml        a METS made for this export: the package's complete PREMIS history
tagmanifest-sha256.txt  tagmanifest-sha512.txt
data/…                   payload, names exactly as deposited
```

bag-info.txt (RFC 8493 section 2.2.2): `Source-Organization` is the exporting archive (the
organisation transferring the content); `External-Identifier` the package id and every
external identifier; `Bag-Group-Identifier` the package id; `Internal-Sender-Identifier`
the package version; the depositor's own `Source-Organization` moves to
`Original-Source-Organization`; `Bagging-Date`, `Bag-Software-Agent`, `Payload-Oxum`; then the labels
of the version's own bag-info that we do not compute (Title, Contact-Name, …), so nothing the
depositor said is lost. The tag files are small and built in memory; payload entries name
the stored content file they are copied from, so no full copy is ever made in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from preserve import SOFTWARE_NAME, __version__
from preserve.checksums import MultiHasher
from preserve.deposit import format_manifest_line, format_tag_file
from preserve.export.source import ExportSource
from preserve.storage.location import StoredContent

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("sha256", "sha512")

# Labels an export computes anew or replaces; the others of the stored bag-info are kept.
_COMPUTED = {"source-organization", "external-identifier", "bag-group-identifier",
             "internal-sender-identifier", "bagging-date", "bag-software-agent",
             "payload-oxum", "bag-size", "bag-count"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the bag: its path in the bag, and either its bytes or its stored content.

    `digests` are what the bag's manifests say (sha256, sha512): for a payload file the
    catalog's, checked against the bytes while they are copied.
    """

    path: str
    size: int
    digests: Mapping[str, str]
    data: bytes | None = None
    content: StoredContent | None = None


def bag_entries(source: ExportSource, mets: Entry) -> list[Entry]:
    """Every entry of the bag, tag files first, then the payload in path order; `mets` is
    the export's METS (written to a file first: it grows with the package)."""
    tags: list[Entry] = []

    def tag(path: str, data: bytes) -> None:
        hasher = MultiHasher(ALGORITHMS)
        hasher.update(data)
        tags.append(Entry(path, len(data), hasher.hexdigests(), data=data))

    payload = payload_entries(source)
    tag("bagit.txt", BAGIT_TXT)
    tag("bag-info.txt", bag_info(source))
    for algorithm in ALGORITHMS:
        tag(f"manifest-{algorithm}.txt", _manifest(payload, algorithm))
    tags.append(mets)
    listed = list(tags)
    for algorithm in ALGORITHMS:
        tag(f"tagmanifest-{algorithm}.txt", _manifest(listed, algorithm))
    return tags + payload


def payload_entries(source: ExportSource) -> list[Entry]:
    """The payload entries of the bag, in path order: what `bag_entries` ends with, known
    before the METS is written (so the payload can be copied meanwhile)."""
    return [Entry(f.path, f.size, {"sha256": f.sha256, "sha512": f.sha512},
                  content=f.content) for f in sorted(source.files, key=lambda f: f.path)]


def bag_info(source: ExportSource) -> bytes:
    """bag-info.txt of the export (see the module docstring for every label)."""
    pairs = [("Source-Organization", source.organization)]
    external = [source.package_id] + [i for i in source.external_ids if i != source.package_id]
    pairs += [("External-Identifier", value) for value in external]
    pairs += [
        ("Bag-Group-Identifier", source.package_id),
        ("Internal-Sender-Identifier", f"{source.package_id} v{source.version}"),
        ("Bagging-Date", source.created.date().isoformat()),
        ("Bag-Software-Agent", f"{SOFTWARE_NAME} {__version__}"),
        ("Payload-Oxum", f"{source.payload_bytes}.{len(source.files)}"),
    ]
    kept = [(k, v) for k, v in source.bag_info if k.lower() not in _COMPUTED]
    # The depositor stays named when the sender takes over Source-Organization.
    if not any(k.lower() == "original-source-organization" for k, _ in kept):
        kept[:0] = [("Original-Source-Organization", v) for k, v in source.bag_info
                    if k.lower() == "source-organization" and v != source.organization]
    if source.title and not any(k.lower() == "title" for k, _ in kept):
        kept.insert(0, ("Title", source.title))
    return format_tag_file(pairs + kept).encode("utf-8")


def _manifest(entries: list[Entry], algorithm: str) -> bytes:
    lines = [format_manifest_line(e.digests[algorithm], e.path)
             for e in sorted(entries, key=lambda e: e.path)]
    return "".join(lines).encode("utf-8")
