"""What a package search looks in (issue 15, "Speed"): `packages.search_text`, the package id,
its title and its external identifiers, one per line, each folded as `preserve find` folds
text (`preserve.names.folded`: NFKC, Unicode case folding, one apostrophe for the ones typed
for the Uzbek okina). A search folds what was typed the same way and asks for it as a
substring of that one column: no function folds each row at query time, and SQLite and
PostgreSQL find the same packages (100,000 packages: one scan of one column).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from preserve.catalog.records import PackageIdentifierRecord, PackageRecord
from preserve.names import folded


def search_text(package_id: str, title: str | None, identifiers: Iterable[str]) -> str:
    """The folded lines a search looks in (the separator keeps fields from running into
    each other)."""
    return "\n".join(folded(part) for part in (package_id, title or "", *identifiers))


def refresh(session: Session, package_id: str) -> None:
    """Write the package's search text from its rows as they are now (call after its title
    or identifiers change, in the same transaction)."""
    session.flush()
    package = session.get(PackageRecord, package_id)
    if package is None:
        return
    identifiers = session.scalars(
        select(PackageIdentifierRecord.identifier)
        .where(PackageIdentifierRecord.package_id == package_id)
        .order_by(PackageIdentifierRecord.type, PackageIdentifierRecord.identifier))
    package.search_text = search_text(package_id, package.title, identifiers)


def matches(session: Session, text: str) -> ColumnElement[bool]:
    """Packages whose id, title or an identifier contains `text`, ignoring case in every
    script: a substring test, with nothing in `text` taken as a pattern."""
    needle = folded(text)
    if session.get_bind().dialect.name == "postgresql":
        return func.strpos(PackageRecord.search_text, needle) > 0
    return func.instr(PackageRecord.search_text, needle) > 0
