"""Rights statements: read from a deposit (`metadata/rights.csv`, bag-info labels) or a METS,
written as PREMIS 3.0 `rightsStatement`s (issue 16 §1; docs/rights.md).

PREMIS 3.0 Data Dictionary section 4 ("Rights entity"): a statement has an identifier
(4.1.1), a basis (4.1.2: copyright, license, statute, donor, policy; the last two are
`otherRightsInformation` with `otherRightsBasis`), the basis's information (4.1.3-4.1.6:
status and jurisdiction, citation, applicable dates, notes), the act granted or restricted
(4.1.7: act, restriction, termOfGrant / termOfRestriction), and the objects it governs
(4.1.8 linkingObjectIdentifier: the package by its id, a file by its logical path).

PREMIS notes are plain `xs:string`s without `xml:lang`; a note's language is kept as a
leading `[tag] ` (e.g. `[uz-Cyrl] Фақат ўқув залида`) and read back into the same field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from preserve.findings import finding
from preserve.metadata import namespaces as ns
from preserve.model import Finding

BASES = ("copyright", "license", "statute", "donor", "policy")
_OTHER = {"donor": "donor", "policy": "policy"}
#: bag-info labels read as statements (docs/rights.md)
LABELS = {"rights-statement": "policy", "license": "license", "access-restriction": "policy"}
RIGHTS_CSV_PATH = "metadata/rights.csv"
COLUMNS = ("path", "basis", "status", "jurisdiction", "citation", "start_date", "end_date",
           "act", "restriction", "act_start_date", "restriction_end_date", "note")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
PACKAGE = ""  # the path of a statement that governs the whole package


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    lang: str = ""


@dataclass(frozen=True, slots=True)
class RightsStatement:
    """One PREMIS rights statement; `path` is "" for the package, else `data/…`."""

    identifier: str
    basis: str
    path: str = PACKAGE
    status: str = ""
    jurisdiction: str = ""
    citation: str = ""
    start_date: str = ""
    end_date: str = ""
    act: str = ""
    restriction: str = ""
    act_start_date: str = ""
    restriction_end_date: str = ""
    notes: tuple[Note, ...] = ()
    act_end_date: str = ""  # termOfGrant endDate (PREMIS 3.0 4.1.7.3.2): imported only

    def as_dict(self) -> dict[str, object]:
        return {"identifier": self.identifier, "basis": self.basis,
                "path": self.path or None, "status": self.status,
                "jurisdiction": self.jurisdiction, "citation": self.citation,
                "start_date": self.start_date, "end_date": self.end_date, "act": self.act,
                "restriction": self.restriction, "act_start_date": self.act_start_date,
                "restriction_end_date": self.restriction_end_date,
                "act_end_date": self.act_end_date,
                "notes": [{"text": n.text, "lang": n.lang or None} for n in self.notes]}

    def key(self) -> tuple[object, ...]:
        """What the statement says, without its identifier (to compare round trips)."""
        return tuple(v for k, v in self.as_dict().items() if k != "identifier")


def read_rights_csv(data: bytes, path: str, payload_paths: set[str]
                    ) -> tuple[list[RightsStatement], list[Finding]]:
    """The statements of a rights CSV (one row each) and the error findings of bad rows:
    RIGHTS-E001 unreadable, E002 unknown column, E003 unknown basis, E004 bad date,
    E005 a path not in the package's payload."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [], [finding("RIGHTS-E001", path, file=path, why=str(exc))]
    if not rows:
        return [], [finding("RIGHTS-E001", path, file=path, why="it is empty")]
    findings: list[Finding] = []
    header: list[tuple[str, str]] = []
    for raw in rows[0]:
        name, _sep, rest = raw.strip().partition("[")
        lang = rest.rstrip("]") if rest else ""
        lang = (language_tag(lang) or lang) if lang else ""
        if name not in COLUMNS or (lang and (name != "note" or language_tag(lang) is None)):
            findings.append(finding("RIGHTS-E002", path, file=path, column=raw,
                                    columns=", ".join(COLUMNS)))
        header.append((name, lang))
    if "basis" not in {name for name, _ in header}:
        findings.append(finding("RIGHTS-E002", path, file=path, column="basis (missing)",
                                columns=", ".join(COLUMNS)))
    statements: list[RightsStatement] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        fields: dict[str, str] = {}
        notes: list[Note] = []
        for (name, lang), cell in zip(header, row, strict=False):
            cell = cell.strip()
            if name == "note" and cell:
                notes.append(Note(cell, lang))
            elif name in COLUMNS and cell:
                fields[name] = cell
        statement, problems = _statement(fields, notes, path, number, payload_paths)
        findings += problems
        if statement is not None:
            statements.append(statement)
    return statements, findings


def _statement(fields: dict[str, str], notes: list[Note], path: str, line: int,
               payload_paths: set[str]) -> tuple[RightsStatement | None, list[Finding]]:
    problems: list[Finding] = []
    basis = fields.get("basis", "").lower()
    if basis not in BASES:
        problems.append(finding("RIGHTS-E003", path, file=path, line=line,
                                basis=fields.get("basis", ""), bases=", ".join(BASES)))
    for column in ("start_date", "end_date", "act_start_date", "restriction_end_date"):
        value = fields.get(column, "")
        if value and not _valid_date(value):
            problems.append(finding("RIGHTS-E004", path, file=path, line=line, column=column,
                                    value=value))
    target = fields.get("path", "")
    if target:
        target = target if target.startswith("data/") else "data/" + target
        if target not in payload_paths:
            problems.append(finding("RIGHTS-E005", path, file=path, line=line,
                                    target=fields["path"]))
    if problems:
        return None, problems
    return RightsStatement(
        identifier=str(uuid.uuid4()), basis=basis, path=target,
        status=fields.get("status", ""), jurisdiction=fields.get("jurisdiction", ""),
        citation=fields.get("citation", ""), start_date=fields.get("start_date", ""),
        end_date=fields.get("end_date", ""), act=fields.get("act", ""),
        restriction=fields.get("restriction", ""),
        act_start_date=fields.get("act_start_date", ""),
        restriction_end_date=fields.get("restriction_end_date", ""), notes=tuple(notes)), []


def language_tag(tag: str) -> str | None:
    """`descriptive.language_tag` (imported here: descriptive imports the METS writer,
    which imports this module)."""
    from preserve.metadata.descriptive import language_tag as canonical
    return canonical(tag)


def _valid_date(value: str) -> bool:
    if value.upper() == "OPEN":
        return True
    if not _DATE.match(value):
        return False
    parts = [int(p) for p in value.split("-")] + [1, 1]
    try:
        dt.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


def rights_from_bag_info(pairs: Sequence[tuple[str, str]]) -> list[RightsStatement]:
    """`Rights-Statement`, `License` and `Access-Restriction` labels, one statement each
    for the package (docs/rights.md)."""
    found: list[RightsStatement] = []
    for label, value in pairs:
        basis = LABELS.get(label.lower())
        if basis is None or not value.strip():
            continue
        restricted = label.lower() == "access-restriction"
        found.append(RightsStatement(
            identifier=str(uuid.uuid4()), basis=basis,
            act="disseminate" if restricted else "",
            restriction="Disallow" if restricted else "",
            notes=(Note(value.strip()),)))
    return found


# --- PREMIS ---------------------------------------------------------------------------------
def _p(local: str) -> str:
    return ns.qname(ns.PREMIS, local)


def rights_element(statements: Sequence[RightsStatement], package_id: str,
                   text: Callable[[str], str]) -> etree._Element:
    """A PREMIS `rights` element holding every statement, each linked to its object."""
    rights = etree.Element(_p("rights"), nsmap={"premis": ns.PREMIS}, version="3.0")
    for statement in statements:
        rights.append(_statement_element(statement, package_id, text))
    return rights


def _sub(parent: etree._Element, local: str, value: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, _p(local))
    if value is not None:
        child.text = value
    return child


def _note_text(note: Note) -> str:
    return f"[{note.lang}] {note.text}" if note.lang else note.text


def _dates(parent: etree._Element, local: str, start: str, end: str) -> None:
    if start or end:
        dates = _sub(parent, local)
        _sub(dates, "startDate", start or "..")  # EDTF: an unknown start
        if end:
            _sub(dates, "endDate", end)


def _statement_element(s: RightsStatement, package_id: str,
                       text: Callable[[str], str]) -> etree._Element:
    element = etree.Element(_p("rightsStatement"))
    ident = _sub(element, "rightsStatementIdentifier")
    _sub(ident, "rightsStatementIdentifierType", "UUID")
    _sub(ident, "rightsStatementIdentifierValue", s.identifier)
    _sub(element, "rightsBasis", s.basis if s.basis in _OTHER else s.basis.capitalize())
    notes = [text(_note_text(n)) for n in s.notes]
    if s.basis == "copyright":
        info = _sub(element, "copyrightInformation")
        _sub(info, "copyrightStatus", text(s.status or "unknown"))
        _sub(info, "copyrightJurisdiction", text(s.jurisdiction or "unknown"))
        for note in notes:
            _sub(info, "copyrightNote", note)
        _dates(info, "copyrightApplicableDates", s.start_date, s.end_date)
    elif s.basis == "license":
        info = _sub(element, "licenseInformation")
        _sub(info, "licenseTerms", text(s.status or "see note"))
        for note in notes:
            _sub(info, "licenseNote", note)
        _dates(info, "licenseApplicableDates", s.start_date, s.end_date)
    elif s.basis == "statute":
        info = _sub(element, "statuteInformation")
        _sub(info, "statuteJurisdiction", text(s.jurisdiction or "unknown"))
        _sub(info, "statuteCitation", text(s.citation or s.status or "unknown"))
        for note in notes:
            _sub(info, "statuteNote", note)
        _dates(info, "statuteApplicableDates", s.start_date, s.end_date)
    else:
        info = _sub(element, "otherRightsInformation")
        _sub(info, "otherRightsBasis", _OTHER[s.basis].capitalize())
        _dates(info, "otherRightsApplicableDates", s.start_date, s.end_date)
        for note in notes:
            _sub(info, "otherRightsNote", note)
    if s.act:
        granted = _sub(element, "rightsGranted")
        _sub(granted, "act", text(s.act))
        if s.restriction:
            _sub(granted, "restriction", text(s.restriction))
        if s.act_start_date or s.act_end_date:
            _dates(granted, "termOfGrant", s.act_start_date, s.act_end_date)
        if s.restriction_end_date:
            _dates(granted, "termOfRestriction", s.act_start_date, s.restriction_end_date)
    link = _sub(element, "linkingObjectIdentifier")
    if s.path:
        _sub(link, "linkingObjectIdentifierType", "preserve logical path")
        _sub(link, "linkingObjectIdentifierValue", text(s.path))
    else:
        _sub(link, "linkingObjectIdentifierType", "preserve package id")
        _sub(link, "linkingObjectIdentifierValue", text(package_id))
    return element
