"""The repository-side decisions of an ingest, shared by `ingest` and `validate --repo`.

Besides the deposit's own findings, an ingest refuses what the repository already holds
(DESIGN.md Data flow: one package per intellectual entity): an External-Identifier held by
another package (ING-E001), a payload held by another package (ING-E002), a package id that
is taken (ING-E003) or not allowed (ING-E004), and a version identical to the newest one
(ING-E009), and identifiers of deaccessioned packages (ING-E010, ING-E011; issue 16 §2).
`preserve validate` against a repository asks the same functions, so validate and
ingest never disagree (issue 11 section 6).
"""

from __future__ import annotations

from collections.abc import Sequence

from preserve.catalog import Catalog
from preserve.errors import PackageNotFound
from preserve.findings import finding
from preserve.model import Finding


def identifier_findings(catalog: Catalog, identifiers: Sequence[str],
                        version_of: str | None,
                        allow_deaccessioned: bool = False) -> list[Finding]:
    """ING-E001 for each External-Identifier another package holds; ING-E010 for one a
    deaccessioned package held (issue 16 §2: unless `allow_deaccessioned`); ING-E011 for a
    version of a deaccessioned package; PackageNotFound when the package to add a version to
    is unknown."""
    if version_of is not None and not catalog.package_exists(version_of):
        raise PackageNotFound(package_id=version_of)
    found = []
    if version_of is not None and catalog.package_state(version_of) == "deaccessioned":
        found.append(finding("ING-E011", "", package_id=version_of))
    held = catalog.packages_with_identifiers(identifiers) if identifiers else {}
    gone = catalog.deaccessioned_packages(sorted(set(held.values())))
    for identifier, other in held.items():
        if other == version_of:
            continue
        if other not in gone:
            found.append(finding("ING-E001", "bag-info.txt", identifier=identifier,
                                 package_id=other))
        elif not allow_deaccessioned:
            found.append(finding("ING-E010", "bag-info.txt", identifier=identifier,
                                 package_id=other))
    return found


def id_findings(catalog: Catalog, package_id: str, chosen: bool) -> list[Finding]:
    """ING-E004 for an id that is not allowed, ING-E003 for a chosen id that is taken."""
    problem = id_problem(package_id)
    if problem:
        return [finding("ING-E004", "", package_id=package_id, reason=problem)]
    if chosen and catalog.package_state(package_id) == "deaccessioned":
        return [finding("ING-E011", "", package_id=package_id)]
    if chosen and catalog.package_exists(package_id):
        return [finding("ING-E003", "", package_id=package_id)]
    return []


def payload_findings(catalog: Catalog, fingerprint: str, version_of: str | None,
                     allow_unchanged: bool) -> list[Finding]:
    """ING-E002: the payload is held by another package; ING-E009: it equals the newest
    version of the package it would become a version of (a re-run of a version deposit)."""
    found = []
    other = catalog.package_with_fingerprint(fingerprint)
    if other is not None and catalog.package_state(other) == "deaccessioned":
        other = None  # its content is no longer held (issue 16 §2)
    if other is not None and other != version_of:
        found.append(finding("ING-E002", "data/", package_id=other))
    if version_of is not None and not allow_unchanged:
        head = catalog.head_fingerprint(version_of)
        if head is not None and head[1] == fingerprint:
            found.append(finding("ING-E009", "data/", package_id=version_of, version=head[0]))
    return found


def id_problem(package_id: str) -> str | None:
    if not package_id.strip():
        return "it is empty"
    if len(package_id.encode("utf-8")) > 1024:
        return "it is longer than 1024 bytes"
    if any(ord(c) < 32 or ord(c) == 127 for c in package_id):
        return "it contains control characters"
    return None
