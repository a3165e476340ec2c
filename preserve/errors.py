"""The error families of preserve and the exit codes they map to (DESIGN.md, "Exit codes").

Every error a user can cause or meet is a `PreserveError`. The class docstring is the message
template (formatted with the keyword arguments given to the constructor) and the class carries
its exit code, so the one handler in `preserve.cli.main` needs no table of its own.
Messages say what to do next.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes, fixed by DESIGN.md."""

    OK = 0
    WARNINGS = 1
    USAGE = 2
    INTERNAL = 3
    CONFIGURATION = 10
    DEPOSIT_REJECTED = 11
    FIXITY_FAILURE = 12
    STORAGE = 13
    CATALOG = 14
    INTERRUPTED = 130


class PreserveError(Exception):
    """{detail}"""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, **fields: object) -> None:
        self.fields = fields
        super().__init__(self.message)

    @property
    def message(self) -> str:
        template = (type(self).__doc__ or "{detail}").strip()
        try:
            return template.format(**self.fields)
        except (KeyError, IndexError):  # a template/field mismatch must never hide the error
            return f"{template} {self.fields!r}"


class ConfigurationError(PreserveError):
    """Configuration problem: {detail}"""

    exit_code = ExitCode.CONFIGURATION


class RepositoryNotFound(ConfigurationError):
    """No preserve repository at {path}: run `preserve --repo {path} init` first, or point
    --repo / PRESERVE_REPO at an existing repository."""


class RepositoryExists(ConfigurationError):
    """{path} already holds a preserve repository; nothing was changed."""


class DepositError(PreserveError):
    """Deposit problem: {detail}"""

    exit_code = ExitCode.DEPOSIT_REJECTED


class DepositRejected(DepositError):
    """Deposit {path} rejected with {count} error finding(s); nothing was stored. Fix the
    deposit (see the findings above) and try again."""

    def __init__(self, *, path: str, findings: tuple[Any, ...]) -> None:  # tuple[Finding, ...]
        self.findings = findings
        errors = sum(1 for f in findings if f.severity.value == "error")
        super().__init__(path=path, count=errors)


class InvalidMetadata(PreserveError):
    """Internal error: the METS built for this version is not valid against the official
    schema, so nothing was stored. Please report this with the deposit: {problems}"""


class FixityError(PreserveError):
    """Fixity failure: {detail}"""

    exit_code = ExitCode.FIXITY_FAILURE


class StorageError(PreserveError):
    """Storage error: {detail}"""

    exit_code = ExitCode.STORAGE


class CatalogError(PreserveError):
    """Catalog error: {detail}"""

    exit_code = ExitCode.CATALOG


class MigrationNeeded(CatalogError):
    """The catalog at {url} is at revision {current} but this preserve needs {head}: run
    `preserve db upgrade` (back up the catalog first)."""


class PackageDeaccessioned(PreserveError):
    """{detail}"""

    exit_code = ExitCode.USAGE  # its content is no longer held (issue 16 §2, DEA-E009)


class PackageNotFound(PreserveError):
    """No package {package_id!r}: no package has that id or External-Identifier; `preserve
    list` shows what is held."""

    exit_code = ExitCode.USAGE  # the user named something that is not there (issue 11)


class UsageError(PreserveError):
    """{detail}"""

    exit_code = ExitCode.USAGE


class ExportTargetExists(UsageError):
    """{path} already exists; an export never overwrites anything. Name a new path, or an
    existing directory to export into."""


class ExportFailed(StorageError):
    """Export of {package_id} failed its read-back check, so nothing was left at {target}:
    {problems}"""
