"""The one catalogue of finding codes (DESIGN.md, "finding"; STYLE.md, "Errors").

Each code is stable forever: tests and users key on it, never on the message text. A code has
a severity, a message template (formatted with keyword arguments) and the rule it enforces,
usually an RFC 8493 section. Prefixes: `BAG-` bag structure and tag files, `MAN-` manifests
and fixity, `PAY-` payload files, `SER-` serialized (zip/tar) deposits, `NAME-` file names,
`ING-` ingest decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from preserve.model import Finding, Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class FindingCode:
    """One entry of the catalogue."""

    code: str
    severity: Severity
    template: str
    rule: str


_CATALOGUE: list[FindingCode] = [
    # --- ingest decisions -------------------------------------------------------------------
    FindingCode("ING-E001", E, "External-Identifier {identifier!r} is already held by package "
                "{package_id}; use `--as-version-of {package_id}` to add this deposit as its next "
                "version", "DESIGN.md Data flow: one package per intellectual entity"),
    FindingCode("ING-E002", E, "the exact same payload is already held by package {package_id}; "
                "use `--as-version-of {package_id}` to add this deposit as its next version",
                "DESIGN.md Data flow: one package per intellectual entity"),
    FindingCode("ING-E003", E, "package id {package_id!r} is already taken; choose another --id",
                "DESIGN.md Catalog: package ids are unique"),
    FindingCode("ING-E004", E, "package id {package_id!r} is not allowed: {reason}",
                "OCFL 1.1 section 3.1: object identifiers"),
    FindingCode("ING-E005", E, "the deposit changed while it was read: {detail}; ingest it again "
                "once nothing is writing to it", "DESIGN.md Data flow: read once, verify"),
]

CATALOGUE: dict[str, FindingCode] = {}


def register(*codes: FindingCode) -> None:
    """Add codes to the catalogue; a code may be defined only once."""
    for entry in codes:
        if entry.code in CATALOGUE:
            raise ValueError(f"finding code {entry.code} defined twice")
        if entry.severity is Severity.ERROR and "-E" not in entry.code:
            raise ValueError(f"error code {entry.code} must contain -E")
        if entry.severity is Severity.WARNING and "-W" not in entry.code:
            raise ValueError(f"warning code {entry.code} must contain -W")
        CATALOGUE[entry.code] = entry


register(*_CATALOGUE)


def finding(code: str, path: str = "", **fields: object) -> Finding:
    """Build a Finding for `code`, formatting its template with `fields`."""
    entry = CATALOGUE[code]
    return Finding(
        code=entry.code,
        severity=entry.severity,
        path=path,
        message=entry.template.format(**fields),
    )


def has_errors(findings: "list[Finding] | tuple[Finding, ...]") -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
