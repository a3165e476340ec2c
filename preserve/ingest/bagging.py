"""The tag files that make every stored version a complete BagIt 1.0 bag (RFC 8493).

The logical state of a version (DESIGN.md, "Storage") is:

```
bagit.txt  bag-info.txt
manifest-sha256.txt  manifest-sha512.txt  tagmanifest-sha256.txt  tagmanifest-sha512.txt
data/…                   payload, names exactly as deposited
metadata/mets.xml        METS
metadata/submission/…    the deposit's own tag files, as received
```

These are pure functions from file lists to bytes; the ingest workflow writes them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence

from preserve.checksums import ByteSink
from preserve.deposit import format_manifest_line, format_tag_file
from preserve.model import PayloadFile

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFEST_ALGORITHMS = ("sha256", "sha512")

# Labels we compute for the stored bag; the deposit's own values stay in metadata/submission/.
_RECOMPUTED = {"payload-oxum", "bag-size", "bagging-date", "bag-software-agent"}


def bag_info(
    deposit_info: Sequence[tuple[str, str]],
    files: Sequence[PayloadFile],
    *,
    created: dt.datetime,
    software: str,
    package_id: str,
    version: int,
) -> bytes:
    """bag-info.txt (RFC 8493 section 2.2.2): the deposit's labels, then our computed ones."""
    pairs = [(k, v) for k, v in deposit_info if k.lower() not in _RECOMPUTED]
    if not any(k.lower() == "external-identifier" and v == package_id for k, v in pairs):
        pairs.append(("Internal-Sender-Identifier", f"{package_id} v{version}"))
    pairs += [
        ("Bagging-Date", created.date().isoformat()),
        ("Bag-Software-Agent", software),
        ("Payload-Oxum", f"{sum(f.size for f in files)}.{len(files)}"),
    ]
    return format_tag_file(pairs).encode("utf-8")


def manifest(entries: Iterable[tuple[str, Mapping[str, str]]], algorithm: str) -> bytes:
    """A (tag)manifest: one `digest path` line per file, paths encoded per RFC 8493 2.1.3."""
    out = io.BytesIO()
    write_manifest(out, entries, algorithm)
    return out.getvalue()


#: `write_manifest` writes in pieces of about this many characters.
_PIECE = 1 << 16


def write_manifest(out: ByteSink, entries: Iterable[tuple[str, Mapping[str, str]]],
                   algorithm: str) -> None:
    """Write `manifest(entries, algorithm)` to `out` in pieces: the payload manifest of
    200,000 files is never one string (docs/performance.md, "Memory per file")."""
    pending: list[str] = []
    size = 0
    for path, digests in sorted(entries):
        line = format_manifest_line(digests[algorithm], path)
        pending.append(line)
        size += len(line)
        if size >= _PIECE:
            out.write("".join(pending).encode("utf-8"))
            pending.clear()
            size = 0
    out.write("".join(pending).encode("utf-8"))
