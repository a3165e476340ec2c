"""Descriptive metadata that comes with a deposit: a CSV of Dublin Core values with languages.

Where: a bag may carry the tag file `metadata/descriptive.csv` (or `metadata.csv` at its top).
Tag files, not payload: the payload is the archival material and stays exactly as deposited;
tag files are copied as received to `metadata/submission/` and are covered by the tag
manifests (RFC 8493 section 2.2.1: tag directories are allowed). Plain folders carry none.

Format: UTF-8 (a byte-order mark is tolerated), RFC 4180 CSV with a header row. Each column
is a simple Dublin Core element (DCMES 1.1: `title`, `creator`, `date`, `language`, ...),
optionally followed by a BCP 47 language tag in brackets: `title[uz-Cyrl]`, `title[fa-Arab]`,
`creator[kk-Cyrl]`. One row per item; every non-empty cell becomes one `dc:` value, in row
order then column order, with `xml:lang` set to the column's tag (none when the column has
none: a value without a language is not given one by guessing). Values are kept exactly
(no trimming, no normalisation); only the tag's letter case is canonicalised (RFC 5646
section 2.1.1: case carries no meaning; `uz-cyrl` becomes `uz-Cyrl`).

Problems are warnings, never rejections (descriptive metadata is not needed to preserve the
bits): a malformed tag (META-W001) keeps the values without a language, an unknown column
(META-W002) is left out of the METS, an unreadable file (META-W003) contributes nothing. The
file itself is kept as received either way.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from lxml import etree

from preserve.findings import finding
from preserve.metadata.mets import DC_ELEMENTS, DcValue
from preserve.metadata.namespaces import DC, METS, XML, qname
from preserve.model import Finding

#: Tag-file paths (relative to the bag) read as descriptive metadata, in order of preference.
DESCRIPTIVE_CSV_PATHS: tuple[str, ...] = ("metadata/descriptive.csv", "metadata.csv")

_COLUMN = re.compile(r"\s*([A-Za-z]+)\s*(?:\[([^\]]*)\])?\s*")

# RFC 5646 section 2.1 `langtag` and `privateuse` (ABNF), without the irregular grandfathered
# tags: language [-extlang] [-script] [-region] *(-variant) *(-extension) [-privateuse].
_LANGTAG = re.compile(r"""
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3} | [a-z]{4} | [a-z]{5,8})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*
    (?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*
    (?:-x(?:-[a-z0-9]{1,8})+)?
    | x(?:-[a-z0-9]{1,8})+
""", re.VERBOSE | re.IGNORECASE)


def language_tag(tag: str) -> str | None:
    """`tag` in canonical case if it is a well-formed BCP 47 tag (RFC 5646 2.1), else None.

    Well-formed, not valid: the subtags are not looked up in the IANA registry (offline), so
    `zz-Zzzz` passes; a typo like `uz_Cyrl`, `uz--Cyrl` or `Cyrl-uz` does not.
    """
    match = _LANGTAG.fullmatch(tag)
    if match is None:
        return None
    parts = tag.lower().split("-")
    out = [parts[0]]
    after_singleton = len(parts[0]) == 1  # extensions and private use stay lower case
    for part in parts[1:]:
        if after_singleton or len(part) == 1:
            after_singleton = True
            out.append(part)
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())  # script
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())  # region
        else:
            out.append(part)
    return "-".join(out)


def read_descriptive_csv(data: bytes, path: str) -> tuple[list[DcValue], list[Finding]]:
    """The Dublin Core values of a descriptive CSV and the (warning) findings about it."""
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [], [_finding("META-W003", path, detail=str(exc))]
    if not rows:
        return [], []
    findings: list[Finding] = []
    columns: list[tuple[str, str] | None] = []
    for header in rows[0]:
        columns.append(_column(header, path, findings))
    values: list[DcValue] = []
    for row in rows[1:]:
        for column, cell in zip(columns, row, strict=False):
            if column is not None and cell != "":
                values.append(DcValue(column[0], cell, column[1]))
    return values, findings


def find_descriptive_csv(tag_paths: Sequence[str]) -> str | None:
    """Which of the deposit's tag files (paths relative to the bag) is its descriptive CSV."""
    present = set(tag_paths)
    return next((p for p in DESCRIPTIVE_CSV_PATHS if p in present), None)


def _finding(code: str, path: str, **fields: object) -> Finding:
    return finding(code, path, file=path, **fields)


def _column(header: str, path: str, findings: list[Finding]) -> tuple[str, str] | None:
    match = _COLUMN.fullmatch(header)
    element = match.group(1).lower() if match else ""
    if element not in DC_ELEMENTS:
        findings.append(_finding("META-W002", path, column=header,
                                elements=", ".join(sorted(DC_ELEMENTS))))
        return None
    tag = match.group(2) if match else None
    if tag is None:
        return element, ""
    canonical = language_tag(tag.strip())
    if canonical is None:
        findings.append(_finding("META-W001", path, column=header, tag=tag))
        return element, ""
    return element, canonical


def mets_titles(document: bytes) -> list[tuple[str, str]]:
    """(title, BCP 47 tag or "") of every `dc:title` in the dmdSecs of a METS document."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False,
                             huge_tree=True)
    root = etree.fromstring(document, parser)
    titles = root.iterfind(f"{qname(METS, 'dmdSec')}//{qname(DC, 'title')}")
    return [(t.text or "", t.get(qname(XML, "lang"), "")) for t in titles]
