"""Parsing and writing BagIt tag files (RFC 8493 sections 2.1.1, 2.1.3, 2.2.1-2.2.3).

Pure functions of bytes/text: nothing here touches the filesystem. Every malformed input
becomes a finding, never an exception (bagit-python raises ValueError/UnicodeDecodeError on
a bad Payload-Oxum, a NUL in a manifest or a mis-encoded bag-info).

Lines end in LF, CR or CRLF (section 2.1). File paths in manifests and fetch.txt have LF, CR
and `%` percent-encoded (`%0A`, `%0D`, `%25`) and nothing else is decoded (section 2.1.3).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

from preserve.checksums import is_hex_digest
from preserve.deposit.report import excerpt, make
from preserve.model import Finding

SUPPORTED_VERSIONS = ("1.0", "0.97")
UTF8_BOM = b"\xef\xbb\xbf"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PERCENT = re.compile(r"%(0A|0D|25)", re.IGNORECASE)
_PERCENT_VALUES = {"0A": "\n", "0D": "\r", "25": "%"}
_MANIFEST_LINE = re.compile(r"([^ \t]+)[ \t]+(.*)", re.DOTALL)
_FETCH_LINE = re.compile(r"([^ \t]+)[ \t]+([0-9]+|-)[ \t]+(.*)", re.DOTALL)
_HEX = re.compile(r"[0-9A-Fa-f]+")
_OXUM = re.compile(r"([0-9]+)\.([0-9]+)")
_DRIVE = re.compile(r"[A-Za-z]:")


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
    lines = [line for line in split_lines(text) if line.strip()]
    pairs = []
    for line in lines:
        label, sep, value = line.partition(":")
        if not sep:
            return None, [*findings, make("BAG-E002", path, detail=f"line {excerpt(line)!r}")]
        pairs.append((label.strip(), value.strip()))
    labels = [label for label, _ in pairs]
    if labels != ["BagIt-Version", "Tag-File-Character-Encoding"]:
        return None, [*findings, make("BAG-E002", path, detail=f"found labels {labels!r}")]
    version, declared = pairs[0][1], pairs[1][1]
    if version not in SUPPORTED_VERSIONS:
        findings.append(make("BAG-E003", path, version=version))
    encoding = normalise_encoding(declared)
    if encoding is None:
        findings.append(make("BAG-E004", path, encoding=declared))
        encoding = "utf-8"  # read on, to report what else is wrong
    elif encoding != "utf-8":
        findings.append(make("BAG-W004", path, encoding=declared))
    return Declaration(version=version, encoding=encoding), findings


# --- bag-info.txt and other metadata files ---------------------------------------------------


def parse_tag_file(text: str, path: str) -> tuple[list[tuple[str, str]], list[Finding]]:
    """Parse `Label: value` elements (section 2.2.2); continuation lines are unfolded.

    A continuation line starts with a space or tab; it is joined to the value before it with
    one space. Labels keep their spelling and order and may repeat.
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
        if not sep or not label.strip() or label != label.strip():
            findings.append(make("BAG-E008", path, line=number, text=excerpt(line)))
            continue
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
    return entries, findings


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
