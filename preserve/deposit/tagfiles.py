"""Parsing and writing BagIt tag files (RFC 8493 sections 2.1.1, 2.1.3, 2.2.1-2.2.3).

Pure functions of bytes/text: nothing here touches the filesystem. Every malformed input
becomes a finding, never an exception (bagit-python raises ValueError/UnicodeDecodeError on
a bad Payload-Oxum, a NUL in a manifest or a mis-encoded bag-info).

Lines end in LF, CR or CRLF (section 2.1). File paths in manifests and fetch.txt have LF, CR
and `%` percent-encoded (`%0A`, `%0D`, `%25`) and nothing else is decoded (section 2.1.3).

Dialects of other tools and of the pre-1.0 drafts (docs/dialects.md) are read with a warning
when their meaning is unambiguous: BagIt 0.93-0.97 declarations and `Label : value` lines
with stray whitespace, manifest paths written `./data/x` or with the `*` binary marker of
`md5sum -b`. A BagIt 1.0 `bagit.txt` must be exactly the two lines of section 2.1.1.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

from preserve.checksums import is_hex_digest
from preserve.deposit.report import excerpt, make
from preserve.model import Finding

#: BagIt versions read: RFC 8493 (1.0), draft 14 (0.97) and the drafts of 2008-2011.
SUPPORTED_VERSIONS = ("1.0", "0.97", "0.96", "0.95", "0.94", "0.93")
#: Drafts read with a warning that the version is old (BAG-W005).
LEGACY_VERSIONS = frozenset({"0.93", "0.94", "0.95", "0.96"})
#: Drafts whose metadata file is `package-info.txt`, not `bag-info.txt` (BAG-W006).
PACKAGE_INFO_VERSIONS = frozenset({"0.93", "0.94", "0.95"})
UTF8_BOM = b"\xef\xbb\xbf"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PERCENT = re.compile(r"%(0A|0D|25)", re.IGNORECASE)
_PERCENT_VALUES = {"0A": "\n", "0D": "\r", "25": "%"}
_MANIFEST_LINE = re.compile(r"([^ \t]+)[ \t]+(.*)", re.DOTALL)
_FETCH_LINE = re.compile(r"([^ \t]+)[ \t]+([0-9]+|-)[ \t]+(.*)", re.DOTALL)
_HEX = re.compile(r"[0-9A-Fa-f]+")
_OXUM = re.compile(r"([0-9]+)\.([0-9]+)")
_DRIVE = re.compile(r"[A-Za-z]:")
#: The bag declaration exactly as RFC 8493 section 2.1.1 writes it (BagIt 1.0).
_STRICT_DECLARATION = (re.compile(r"BagIt-Version: ([0-9]+\.[0-9]+)"),
                       re.compile(r"Tag-File-Character-Encoding: ([^ \t]+)"))


def is_legacy(version: str | None) -> bool:
    """True for a pre-1.0 bag, whose tag files are read with the drafts' leniency."""
    return version is not None and version != "1.0"


@dataclass(frozen=True, slots=True)
class Declaration:
    """The bag declaration, bagit.txt (section 2.1.1)."""

    version: str
    encoding: str  # normalised codec name, e.g. "utf-8"


# --- lines and encodings ---------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines of `text` without terminators; a final terminator does not start a new line."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def normalise_encoding(name: str) -> str | None:
    """Python's canonical name of a text encoding, or None if unknown or not text."""
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib...: not text
        return None
    return info.name


def decode_tag_file(data: bytes, encoding: str, path: str) -> tuple[str | None, list[Finding]]:
    """Decode a tag file other than bagit.txt; None (with a finding) if it cannot be decoded."""
    findings: list[Finding] = []
    if encoding == "utf-8" and data.startswith(UTF8_BOM):
        findings.append(make("BAG-W001", path))
        data = data[len(UTF8_BOM):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        findings.append(make("BAG-E006", path, encoding=encoding,
                             detail=f"bad byte at offset {exc.start}"))
        return None, findings
    return text, findings


def parse_bagit_txt(data: bytes) -> tuple[Declaration | None, list[Finding]]:
    """Parse bagit.txt: UTF-8, no BOM, exactly the two lines in their order."""
    path = "bagit.txt"
    findings: list[Finding] = []
    if data.startswith(UTF8_BOM):
        findings.append(make("BAG-E005", path))
        data = data[len(UTF8_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [*findings, make("BAG-E002", path, detail="it is not UTF-8")]
    if "\x00" in text:
        return None, [*findings, make("BAG-E002", path, detail="it contains a NUL byte")]
    all_lines = split_lines(text)
    lines = [line for line in all_lines if line.strip()]
    pairs = []
    for line in lines:
        label, sep, value = line.partition(":")
        if not sep:
            return None, [*findings, make("BAG-E002", path, detail=f"line {excerpt(line)!r}")]
        pairs.append((label.strip(), value.strip()))
    labels = [label for label, _ in pairs]
    if labels != ["BagIt-Version", "Tag-File-Character-Encoding"]:
        return None, [*findings, make("BAG-E002", path, detail=f"found labels {labels!r}")]
    exact = len(all_lines) == 2 and all(
        pattern.fullmatch(line) for pattern, line in zip(_STRICT_DECLARATION, all_lines,
                                                         strict=True))
    if not exact:
        shown = next((line for line in all_lines if not any(
            pattern.fullmatch(line) for pattern in _STRICT_DECLARATION)), "")
        if not is_legacy(pairs[0][1]):  # RFC 8493 section 2.1.1: exactly these two lines
            return None, [*findings, make(
                "BAG-E002", path, detail=f"line {excerpt(shown)!r} has extra whitespace or an "
                "empty line is in between (BagIt 1.0 allows neither)")]
        findings.append(make("BAG-W007", path, line=all_lines.index(shown) + 1,
                             text=excerpt(shown), version=pairs[0][1]))
    version, declared = pairs[0][1], pairs[1][1]
    if version not in SUPPORTED_VERSIONS:
        findings.append(make("BAG-E003", path, version=version))
    elif version in LEGACY_VERSIONS:
        findings.append(make("BAG-W005", path, version=version))
    encoding = normalise_encoding(declared)
    if encoding is None:
        findings.append(make("BAG-E004", path, encoding=declared))
        encoding = "utf-8"  # read on, to report what else is wrong
    elif encoding != "utf-8":
        findings.append(make("BAG-W004", path, encoding=declared))
    return Declaration(version=version, encoding=encoding), findings


# --- bag-info.txt and other metadata files ---------------------------------------------------


def parse_tag_file(text: str, path: str, legacy_version: str | None = None
                   ) -> tuple[list[tuple[str, str]], list[Finding]]:
    """Parse `Label: value` elements (section 2.2.2); continuation lines are unfolded.

    A continuation line starts with a space or tab; it is joined to the value before it with
    one space. Labels keep their spelling and order and may repeat. With `legacy_version` (a
    pre-1.0 bag), whitespace after a label (`Label : value`) is stripped with BAG-W007; in a
    1.0 bag it is BAG-E008.
    """
    pairs: list[tuple[str, str]] = []
    findings: list[Finding] = []
    for number, line in enumerate(split_lines(text), start=1):
        if "\x00" in line:
            findings.append(make("BAG-E007", path, line=number))
            continue
        if not line.strip():
            findings.append(make("BAG-W002", path, line=number))
            continue
        if line[0] in " \t":
            if not pairs:
                findings.append(make("BAG-E008", path, line=number, text=excerpt(line)))
                continue
            label, value = pairs[-1]
            pairs[-1] = (label, f"{value} {line.strip()}" if value else line.strip())
            continue
        label, sep, value = line.partition(":")
        if not sep or not label.strip() or (label != label.strip() and legacy_version is None):
            findings.append(make("BAG-E008", path, line=number, text=excerpt(line)))
            continue
        if label != label.strip():
            findings.append(make("BAG-W007", path, line=number, text=excerpt(line),
                                 version=legacy_version))
            label = label.strip()
        if value and value[0] not in " \t":
            findings.append(make("BAG-W003", path, line=number))
        pairs.append((label, value.strip()))
    return pairs, findings


def format_tag_file(pairs: Iterable[tuple[str, str]]) -> str:
    """Write `Label: value` lines (LF); a value's line breaks become continuation lines.

    Round trip: `parse_tag_file(format_tag_file(p))` gives `p` back for values without line
    breaks and without leading/trailing whitespace; a line break reads back as one space.
    """
    out = []
    for label, value in pairs:
        if not label or label != label.strip() or ":" in label or _LINE_BREAK.search(label):
            raise ValueError(f"not a valid tag label: {label!r}")
        parts = [part.strip() for part in split_lines(value)] or [""]
        out.append(f"{label}: {parts[0]}\n")
        out.extend(f"  {part}\n" for part in parts[1:] if part)
    return "".join(out)


def parse_oxum(value: str) -> tuple[int, int] | None:
    """(octets, streams) from a Payload-Oxum value, or None if malformed."""
    match = _OXUM.fullmatch(value.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


# --- manifests and fetch.txt -----------------------------------------------------------------


def encode_path(path: str) -> str:
    """Percent-encode `%`, CR and LF, and only those (section 2.1.3)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    """Undo `encode_path`: only `%0A`, `%0D` and `%25` are decoded (either case)."""
    return _PERCENT.sub(lambda m: _PERCENT_VALUES[m.group(1).upper()], text)


def format_manifest_line(digest: str, path: str) -> str:
    """One manifest line, `<digest>  <path>` (two spaces, as sha256sum) ending in LF."""
    if not digest or any(ch in digest for ch in " \t\r\n"):
        raise ValueError(f"not a digest: {digest!r}")
    if not path or path[0] in " \t":
        raise ValueError(f"a manifest path cannot be empty or start with whitespace: {path!r}")
    return f"{digest.lower()}  {encode_path(path)}\n"


def is_safe_path(path: str) -> bool:
    """True if `path` is relative, has no `..`/`.`/empty segment, `~`, backslash, drive, NUL."""
    if not path or path.startswith(("/", "~")) or "\\" in path or "\x00" in path:
        return False
    if _DRIVE.match(path):
        return False
    return all(segment not in ("", ".", "..") for segment in path.split("/"))


def _in_payload(path: str) -> bool:
    return path.startswith("data/") and len(path) > len("data/")


def parse_manifest(
    text: str, path: str, algorithm: str, payload: bool
) -> tuple[dict[str, str], list[Finding]]:
    """Parse a (tag) manifest into {path from the bag root: lowercase digest}.

    Unsafe paths, paths outside the manifest's area, duplicates, bad digests and garbage lines
    are findings and are left out; no path from a manifest is ever opened here.
    """
    entries: dict[str, str] = {}
    findings: list[Finding] = []
    dialects: dict[str, list[int]] = {"MAN-W003": [], "MAN-W004": []}  # code -> line numbers
    for number, line in enumerate(split_lines(text), start=1):
        if "\x00" in line:
            findings.append(make("BAG-E007", path, line=number))
            continue
        if not line.strip():
            continue
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None or not match.group(2) or not _HEX.fullmatch(match.group(1)):
            findings.append(make("MAN-E002", path, line=number, text=excerpt(line)))
            continue
        digest, entry = match.group(1), decode_path(match.group(2))
        if not is_hex_digest(digest, algorithm):
            findings.append(make("MAN-E004", path, line=number, digest=excerpt(digest),
                                 algorithm=algorithm))
            continue
        entry = _undialect(entry, dialects, number)
        if not is_safe_path(entry):
            findings.append(make("MAN-E006", path, line=number, entry=entry))
            continue
        if _in_payload(entry) != payload:
            findings.append(make("MAN-E007", path, entry=entry))
            continue
        if entry in entries:
            findings.append(make("MAN-E005", path, entry=entry))
            continue
        entries[entry] = digest.lower()
    for code, numbers in dialects.items():
        if numbers:
            findings.append(make(code, path, count=len(numbers), line=numbers[0]))
    return entries, findings


def _undialect(entry: str, dialects: dict[str, list[int]], number: int) -> str:
    """A manifest path without the `*` binary marker of `md5sum -b` and a leading `./`.

    Only when the rest is a path a manifest may hold: `*data/x` cannot name a payload file
    (those start with `data/`), and `./` adds nothing to a path relative to the bag root.
    What remains is checked like every path (`./../x` stays unsafe: MAN-E006)."""
    if entry.startswith("*") and len(entry) > 1 and entry[1] not in " \t":
        entry = entry[1:]
        dialects["MAN-W004"].append(number)
    if entry.startswith("./"):
        while entry.startswith("./"):
            entry = entry[2:]
        dialects["MAN-W003"].append(number)
    return entry


def parse_fetch(text: str, path: str = "fetch.txt") -> tuple[list[tuple[str, int | None, str]],
                                                              list[Finding]]:
    """Parse fetch.txt (section 2.2.3) into (url, length or None, path from the bag root)."""
    entries: list[tuple[str, int | None, str]] = []
    findings: list[Finding] = []
    for number, line in enumerate(split_lines(text), start=1):
        if "\x00" in line:
            findings.append(make("BAG-E007", path, line=number))
            continue
        if not line.strip():
            continue
        match = _FETCH_LINE.fullmatch(line)
        if match is None or not match.group(3):
            findings.append(make("BAG-E013", path, line=number, text=excerpt(line)))
            continue
        url, length, entry = match.group(1), match.group(2), decode_path(match.group(3))
        if not is_safe_path(entry):
            findings.append(make("MAN-E006", path, line=number, entry=entry))
            continue
        if not _in_payload(entry):
            findings.append(make("MAN-E007", path, entry=entry))
            continue
        entries.append((url, None if length == "-" else int(length), entry))
    return entries, findings
