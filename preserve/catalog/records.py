"""ORM models of the catalog tables (DESIGN.md, "Catalog").

These classes never leave `preserve.catalog`: the repository turns them into the frozen
dataclasses of `views.py`. The schema itself is created only by the Alembic history in the
top-level `alembic/` directory; a test checks that these models and that history agree, so a
change here needs a migration.

Digests are lowercase hex of fixed length and sizes are never negative: CHECK constraints say
so in the database as well, because rows can be written by other tools (psql, restores).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from preserve.catalog.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Identifier type of the identifiers a deposit declares in bag-info.txt.
EXTERNAL_IDENTIFIER = "External-Identifier"

#: Deposit states; `in_progress` rows left behind show interrupted attempts.
DEPOSIT_STATUSES = ("in_progress", "accepted", "rejected", "failed")


def hex_check(column: str, length: int) -> CheckConstraint:
    """CHECK that `column` is lowercase hex of exactly `length` characters (SQLite and PostgreSQL)."""
    # No regex operator is common to both databases; ltrim() stripping every hex digit
    # leaves the empty string exactly when the value is all lowercase hex.
    return CheckConstraint(
        f"length({column}) = {length} AND ltrim({column}, '0123456789abcdef') = ''",
        name=f"{column}_hex",
    )


def non_negative(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class LocationRecord(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    uri: Mapped[str] = mapped_column(Text)


class PackageRecord(Base):
    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    # What a search looks in: the id, the title and the external identifiers, one per line,
    # folded (preserve.names.folded; migration 0011); written by catalog/search.py with them.
    search_text: Mapped[str | None] = mapped_column(Text)
    created: Mapped[dt.datetime]
    # The head version's payload fingerprint; every version's is in package_versions.
    payload_fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    # active | deaccessioned (migration 0008); a deaccessioned package's rows are its tombstone.
    state: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    __table_args__ = (CheckConstraint("state IN ('active', 'deaccessioned')",
                                      name="package_state"),
                      Index("ix_packages_created", "created", "id"))


class PackageIdentifierRecord(Base):
    __tablename__ = "package_identifiers"

    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), primary_key=True)
    identifier: Mapped[str] = mapped_column(Text, primary_key=True, index=True)


class PackageVersionRecord(Base):
    __tablename__ = "package_versions"
    __table_args__ = (
        UniqueConstraint("package_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        non_negative("file_count"),
        non_negative("byte_count"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"))
    number: Mapped[int]
    created: Mapped[dt.datetime]
    message: Mapped[str] = mapped_column(Text)
    deposit_id: Mapped[int | None] = mapped_column(ForeignKey("deposits.id"))
    file_count: Mapped[int] = mapped_column(Integer)
    byte_count: Mapped[int] = mapped_column(BigInteger)
    payload_fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    # sha512 of the version's own inventory.json, pinned at ingest/adoption (migration 0004).
    inventory_sha512: Mapped[str | None] = mapped_column(String(128))


class FileRecord(Base):
    """One logical file of one version (payload and tag files alike)."""

    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("package_id", "version", "path"),
        ForeignKeyConstraint(
            ["package_id", "version"], ["package_versions.package_id", "package_versions.number"]
        ),
        non_negative("size"),
        hex_check("sha256", 64),
        hex_check("sha512", 128),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    # Logical path exactly as deposited: Text, never normalised or transliterated.
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sha512: Mapped[str] = mapped_column(String(128))
    format: Mapped[str | None] = mapped_column(String(200))
    # PRONOM's name and version of `format`, as siegfried gave them (migration 0011; "" when
    # identified before it, or not identified).
    format_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    format_version: Mapped[str] = mapped_column(Text, default="", server_default="")
    content_path: Mapped[str] = mapped_column(Text)


class CopyRecord(Base):
    """One file held at one location; audits pick the least recently checked copies."""

    __tablename__ = "copies"
    # Both columns due_copies orders by (migration 0003): the query stops at its LIMIT.
    __table_args__ = (Index("ix_copies_last_fixity_at_file_id", "last_fixity_at", "file_id"),)

    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    content_path: Mapped[str] = mapped_column(Text)
    last_fixity_at: Mapped[dt.datetime | None]
    last_fixity_outcome: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="ok", server_default="ok")
    # When the current damage (status damaged/missing) was first found (migration 0004).
    problem_since: Mapped[dt.datetime | None]


class AgentRecord(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(400), unique=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(50))


class EventRecord(Base):
    """A PREMIS event. Append-only (database triggers) and hash-chained (`chain.py`).

    `package_id` and `deposit_id` carry no foreign keys on purpose: the log must accept every
    event, including those about rejected deposits whose package never came to exist.
    """

    __tablename__ = "events"
    __table_args__ = (hex_check("prev_hash", 64), hex_check("hash", 64))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(Text)
    time: Mapped[dt.datetime]
    outcome: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    outcome_detail: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    package_id: Mapped[str | None] = mapped_column(Text, index=True)
    version: Mapped[int | None]
    deposit_id: Mapped[int | None]
    object_paths: Mapped[list[Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Events recorded by another archive and imported with a package (migration 0002):
    # that archive, and its own eventIdentifierType / eventIdentifierValue. NULL for ours.
    origin: Mapped[str | None] = mapped_column(Text)
    source_identifier_type: Mapped[str | None] = mapped_column(Text)
    source_identifier: Mapped[str | None] = mapped_column(Text)
    # The person on whose behalf the software acted (migration 0010, issue 15); NULL when
    # no person is known (events before 0010, scheduled work).
    person_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class AuditRunRecord(Base):
    __tablename__ = "audit_runs"
    __table_args__ = tuple(
        non_negative(c) for c in ("checked", "bytes", "passed", "failed")
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started: Mapped[dt.datetime]
    finished: Mapped[dt.datetime | None]
    checked: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))


class DepositRecord(Base):
    """Every deposit attempt, accepted or rejected, with its findings."""

    __tablename__ = "deposits"
    __table_args__ = (
        CheckConstraint(
            "status IN ('in_progress', 'accepted', 'rejected', 'failed')", name="status_known"
        ),
        non_negative("error_count"),
        non_negative("warning_count"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    started: Mapped[dt.datetime]
    finished: Mapped[dt.datetime | None]
    package_id: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None]
    findings: Mapped[list[Any]]
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    warning_count: Mapped[int] = mapped_column(Integer, default=0)
    depositor: Mapped[str | None] = mapped_column(Text)  # Source-Organization (0009_intake)


class JobErrorRecord(Base):
    """Why an attempt of a queued job failed (issue 14): the queue's own rows (procrastinate)
    say only that it failed. Written by the job runner, read by `preserve jobs`."""

    __tablename__ = "job_errors"
    __table_args__ = (non_negative("attempt"),)

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime]
    error: Mapped[str] = mapped_column(Text)


class BandwidthRecord(Base):
    """A location's shared read budget (issue 14): the time from which its `--max-rate` has
    room again, moved forward by every audit job of every worker (job_catalog.py)."""

    __tablename__ = "bandwidth"

    location: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_free: Mapped[dt.datetime]


__all__ = [
    "AgentRecord", "AuditRunRecord", "BandwidthRecord", "Base", "CopyRecord", "DepositRecord", "EventRecord",
    "FileRecord", "JobErrorRecord", "LocationRecord", "PackageIdentifierRecord",
    "PackageRecord", "PackageVersionRecord", "hex_check", "non_negative",
]


class DeaccessionRequestRecord(Base):
    """A request to deaccession a package and its decision (migration 0008, issue 16 §2).

    An `approved` row is the removal's intent record: it holds the final METS before any copy
    is removed; `completed` once every copy is gone and the package is a tombstone.
    """

    __tablename__ = "deaccession_requests"
    __table_args__ = (CheckConstraint(
        "state IN ('requested', 'approved', 'rejected', 'completed')", name="request_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[dt.datetime | None]
    final_mets: Mapped[bytes | None] = mapped_column(LargeBinary)


class UserRecord(Base):
    """An account of the web app and API (migration 0010, issue 15): its role, its Argon2id
    password hash, and the counters of login throttling."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'archivist', 'admin')",
                                      name="user_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[dt.datetime | None]


class ApiTokenRecord(Base):
    """An API token of an account: only its sha256 is kept (migration 0010)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class WebSessionRecord(Base):
    """A logged-in browser: the sha256 of its cookie, its CSRF token, its expiry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
