"""The SQL catalog (DESIGN.md, "Catalog"): packages, versions, files, copies, the hash-chained
event log, agents, audit runs and deposit attempts, in SQLite or PostgreSQL.

SQLAlchemy and Alembic are used only inside this package and the top-level `alembic/`
history; everything here returns frozen dataclasses. Importing this package does no work:
engines are made when a `Catalog` is opened or a migration function is called.
"""

from __future__ import annotations

from preserve.catalog.account_catalog import Credentials, TokenView, UserView
from preserve.catalog.audits import AuditCopy, AuditRunView, CopyOutcome, OpenProblem
from preserve.catalog.chain import ChainReport
from preserve.catalog.deaccession_catalog import DeaccessionView
from preserve.catalog.engine import (
    HEAD_REVISION,
    current_revision,
    downgrade,
    schema_differences,
    sqlite_url,
    upgrade,
    with_busy_timeout,
)
from preserve.catalog.repository import Catalog
from preserve.catalog.views import (
    AdoptedVersion,
    AdoptionRecord,
    CopyView,
    DepositView,
    EventView,
    FileView,
    IngestRecord,
    PackageDetail,
    PackageSummary,
    StoredFile,
    VersionView,
)

__all__ = [
    "HEAD_REVISION", "OpenProblem", "AdoptedVersion", "AdoptionRecord", "AuditCopy",
    "AuditRunView", "Catalog", "DeaccessionView", "CopyOutcome", "ChainReport", "CopyView",
    "DepositView", "EventView",
    "FileView", "IngestRecord", "PackageDetail", "PackageSummary", "StoredFile", "VersionView",
    "Credentials", "TokenView", "UserView",
    "current_revision", "downgrade", "schema_differences", "sqlite_url", "upgrade", "with_busy_timeout",
]
