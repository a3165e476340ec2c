"""Rights statements read back out of a METS or PREMIS document: ours, or another archive's
(issue 16 §1 "from an imported package's PREMIS rights"; docs/rights.md).

PREMIS 3.0 Data Dictionary section 4 (Rights entity) and PREMIS 2.2 (`info:lc/xmlns/premis-v2`,
as Archivematica writes it in each file's `rightsMD`) name the same semantic units, so one
reader takes both: a `rightsStatement`'s identifier (4.1.1), basis (4.1.2; 2.2 writes donor
and policy as `Other` with `otherRightsBasis`), copyright / license / statute / other
information (4.1.3-4.1.6: status, jurisdiction, citation, applicable dates, notes), every
`rightsGranted` (4.1.7: act, restriction, termOfGrant, termOfRestriction, rightsGrantedNote)
and every `linkingObjectIdentifier` (4.1.8).

preserve holds one act and one object per statement (`RightsStatement`), so a statement that
grants several acts or governs several objects becomes one statement per act and object; the
first keeps the sender's identifier, the others get a UUID derived from it (RFC 4122 version
5), so importing the same document twice gives the same identifiers. What a link names is
the caller's to say (`resolve_statements` takes a `locate` function): preserve's own link
types, a sender's file UUIDs, the package's identifiers. A statement whose object is not in
the package, or that has no basis, cannot be mapped: it is returned with the reason, never
raised.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from preserve.metadata import namespaces as ns
from preserve.metadata.rights import (
    BASES,
    PACKAGE,
    Note,
    RightsStatement,
    language_tag,
)

#: linkingObjectIdentifierType values preserve writes (metadata/rights.py).
PACKAGE_LINK = "preserve package id"
PATH_LINK = "preserve logical path"
#: Namespace of the UUIDs given to the second and later statements split out of one.
SPLIT_NAMESPACE = uuid.UUID("0c9d7f0e-5a43-4c0e-8d59-3b1f2a6e4d21")
_STATEMENT_TAGS = (ns.qname(ns.PREMIS, "rightsStatement"), ns.qname(ns.PREMIS2, "rightsStatement"))
#: A function naming the object a (linkingObjectIdentifierType, value) pair links to:
#: PACKAGE, a logical path `data/…`, or None when it names nothing in the package.
Locate = Callable[[str, str], str | None]


@dataclass(frozen=True, slots=True)
class Grant:
    """One `rightsGranted` (PREMIS 3.0 4.1.7)."""

    act: str
    restriction: str = ""
    start_date: str = ""  # termOfGrant startDate, else termOfRestriction startDate
    end_date: str = ""  # termOfGrant endDate
    restriction_end_date: str = ""  # termOfRestriction endDate
    notes: tuple[Note, ...] = ()  # rightsGrantedNote; a second restriction is noted here


@dataclass(frozen=True, slots=True)
class SenderStatement:
    """A rightsStatement as a document holds it, before its links are resolved: `statement`
    (for the package, no act), its grants and its links ((type, value) pairs); `problem` says
    why it cannot be kept at all (e.g. no rightsBasis), else ""."""

    statement: RightsStatement
    grants: tuple[Grant, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    problem: str = ""


def statements_in(document: bytes) -> list[SenderStatement]:
    """Every PREMIS 3.0 or 2.2 rightsStatement of a METS (or PREMIS) document, in order;
    ValueError if it is not well-formed XML (no DTD, entities or network)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=True)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:  # a ValueError for callers outside this layer
        raise ValueError(f"not well-formed XML: {exc}") from None
    return [read_statement(e) for e in root.iter(*_STATEMENT_TAGS)]


def read_rights(document: bytes) -> list[RightsStatement]:
    """The statements of a METS preserve wrote (linked by preserve's own link types), in
    order; ValueError if it is not XML. Links of other types are read as the package."""
    return own_rights(statements_in(document))


def own_rights(statements: Sequence[SenderStatement]) -> list[RightsStatement]:
    """`read_rights` of statements already read from a METS preserve wrote (the `rights` of
    `history.read_record`, which has them from the rightsMD where preserve writes them), so
    a caller that reads the record does not parse the document a second time."""
    found, _unmapped = resolve_statements(statements, _own_link)
    return found


def _own_link(kind: str, value: str) -> str | None:
    return value if kind == PATH_LINK else PACKAGE


def read_statement(e: etree._Element) -> SenderStatement:
    """One rightsStatement element, PREMIS 3.0 or 2.2 (its own namespace is used)."""
    space = {"p": etree.QName(e).namespace or ns.PREMIS}

    def text(element: etree._Element, path: str) -> str:
        found = element.find(path, space)
        return (found.text or "").strip() if found is not None else ""

    identifier = text(e, "p:rightsStatementIdentifier/p:rightsStatementIdentifierValue")
    raw_basis = text(e, "p:rightsBasis")
    basis = raw_basis.lower()
    notes: list[Note] = []
    if basis == "other" or basis in ("donor", "policy"):
        other = text(e, "p:otherRightsInformation/p:otherRightsBasis")
        basis = other.lower() if other.lower() in ("donor", "policy") else "policy"
        if other and other.lower() not in ("donor", "policy"):
            notes.append(Note(f"other rights basis: {other}"))
    info_name = {"copyright": "copyright", "license": "license", "statute": "statute"}.get(
        basis, "otherRights")
    info = e.find(f"p:{info_name}Information", space)
    status = jurisdiction = citation = start = end = ""
    if info is not None:
        if basis == "copyright":
            status, jurisdiction = (text(info, "p:copyrightStatus"),
                                    text(info, "p:copyrightJurisdiction"))
        elif basis == "license":
            status = text(info, "p:licenseTerms")
            status = "" if status == "see note" else status
            licence_id = text(info, "p:licenseIdentifier/p:licenseIdentifierValue")
            if licence_id:  # PREMIS 2.2 / 3.0 4.1.4.1 licenseDocumentationIdentifier
                notes.append(Note(f"license identifier: {licence_id}"))
        elif basis == "statute":
            jurisdiction, citation = (text(info, "p:statuteJurisdiction"),
                                      text(info, "p:statuteCitation"))
        start = text(info, f"p:{info_name}ApplicableDates/p:startDate")
        end = text(info, f"p:{info_name}ApplicableDates/p:endDate")
        notes += [_read_note(n.text or "") for n in info.iterfind(f"p:{info_name}Note", space)
                  if (n.text or "").strip()]
    grants = tuple(_grant(g, space) for g in e.iterfind("p:rightsGranted", space)
                   if text(g, "p:act"))
    links = tuple((text(link, "p:linkingObjectIdentifierType"),
                   text(link, "p:linkingObjectIdentifierValue"))
                  for link in e.iterfind("p:linkingObjectIdentifier", space))
    problem = ""
    if not raw_basis:
        problem = "it has no rightsBasis (PREMIS 3.0 4.1.2, mandatory)"
    elif basis not in BASES:
        problem = f"its rightsBasis {raw_basis!r} is none of copyright, license, statute, other"
    statement = RightsStatement(
        identifier=identifier or "", basis=basis if basis in BASES else "policy",
        status="" if status == "unknown" else status,
        jurisdiction="" if jurisdiction == "unknown" else jurisdiction,
        citation="" if citation == "unknown" else citation,
        start_date=_nodots(start), end_date=end, notes=tuple(notes))
    return SenderStatement(statement, grants, links, problem)


def _grant(g: etree._Element, space: dict[str, str]) -> Grant:
    def text(path: str) -> str:
        found = g.find(path, space)
        return (found.text or "").strip() if found is not None else ""

    restrictions = [(r.text or "").strip() for r in g.iterfind("p:restriction", space)
                    if (r.text or "").strip()]
    notes = [Note(f"also restriction {r}") for r in restrictions[1:]]
    notes += [_read_note(n.text or "") for n in g.iterfind("p:rightsGrantedNote", space)
              if (n.text or "").strip()]
    return Grant(
        act=text("p:act"), restriction=restrictions[0] if restrictions else "",
        start_date=_nodots(text("p:termOfGrant/p:startDate")
                           or text("p:termOfRestriction/p:startDate")),
        end_date=text("p:termOfGrant/p:endDate"),
        restriction_end_date=text("p:termOfRestriction/p:endDate"), notes=tuple(notes))


def resolve_statements(statements: Sequence[SenderStatement], locate: Locate
                       ) -> tuple[list[RightsStatement], list[tuple[SenderStatement, str]]]:
    """(the statements kept, one per object and act; those that cannot be mapped, each with
    why). A statement without links governs the package; the same statement read twice (a
    METS and its PREMIS file) is kept once."""
    kept: dict[str, RightsStatement] = {}
    unmapped: list[tuple[SenderStatement, str]] = []
    for sender in statements:
        if sender.problem:
            unmapped.append((sender, sender.problem))
            continue
        targets: list[str] = [] if sender.links else [PACKAGE]
        for kind, value in sender.links:
            where = locate(kind, value)
            if where is None:
                unmapped.append((sender, f"it is linked to {kind or 'an object'} {value!r}, "
                                 "which names nothing in this package"))
            elif where not in targets:
                targets.append(where)
        base = sender.statement
        own = base.identifier or str(uuid.uuid5(SPLIT_NAMESPACE, repr(base.key())))
        for target in targets:
            for number, grant in enumerate(sender.grants or (None,)):
                statement = dataclasses.replace(base, path=target)
                if grant is not None:
                    statement = dataclasses.replace(
                        statement, act=grant.act, restriction=grant.restriction,
                        act_start_date=grant.start_date, act_end_date=grant.end_date,
                        restriction_end_date=grant.restriction_end_date,
                        notes=base.notes + grant.notes)
                first = target == targets[0] and number == 0
                identifier = own if first else str(uuid.uuid5(
                    SPLIT_NAMESPACE, f"{own}\x00{target}\x00{number}"))
                statement = dataclasses.replace(statement, identifier=identifier)
                if kept.setdefault(identifier, statement) != statement:
                    # the same identifier saying something else (e.g. one statement copied
                    # into each file's rightsMD, each linked to its file): keep both
                    statement = dataclasses.replace(statement, identifier=str(uuid.uuid5(
                        SPLIT_NAMESPACE, f"{own}\x00{target}\x00{number}\x00{statement.key()!r}")))
                    kept.setdefault(statement.identifier, statement)
    return list(kept.values()), unmapped


def _read_note(value: str) -> Note:
    match = re.match(r"^\[([A-Za-z0-9-]+)\] (.*)$", value, re.S)
    if match and language_tag(match.group(1)) is not None:
        return Note(match.group(2), match.group(1))
    return Note(value)


def _nodots(value: str) -> str:
    return "" if value == ".." else value
