"""Domain values shared by every layer: findings, payload files, events.

Standard library only (DESIGN.md, "Layers"). Values are frozen dataclasses; closed sets are
enums. Paths inside a package are POSIX strings exactly as deposited (file names that are not
UTF-8 never get this far: they are a finding).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum

from preserve import SOFTWARE_NAME, __version__


class Severity(str, Enum):
    """How bad a finding is: an error rejects the deposit, a warning does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by validation or audit (DESIGN.md, "finding")."""

    code: str
    severity: Severity
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """One payload file after it has been read: its path under `data/`, size and digests.

    `path` is relative to the payload directory (no `data/` prefix), exactly as deposited.
    `digests` maps BagIt/hashlib algorithm names (`sha256`, `sha512`, ...) to lowercase hex.
    """

    path: str
    size: int
    digests: Mapping[str, str]


class EventType(str, Enum):
    """PREMIS event types, spelled as in the LoC vocabulary (id.loc.gov eventType)."""

    VALIDATION = "validation"
    MESSAGE_DIGEST_CALCULATION = "message digest calculation"
    INGESTION = "ingestion"
    FIXITY_CHECK = "fixity check"
    FORMAT_IDENTIFICATION = "format identification"
    REPLICATION = "replication"
    TRANSFER = "transfer"
    DEACCESSION = "deaccession"
    METADATA_MODIFICATION = "metadata modification"
    DELETION = "deletion"
    QUARANTINE = "quarantine"


class EventOutcome(str, Enum):
    """PREMIS event outcomes (LoC eventOutcome vocabulary)."""

    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"


class AgentType(str, Enum):
    """PREMIS agent types (LoC agentType vocabulary)."""

    SOFTWARE = "software"
    ORGANIZATION = "organization"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Agent:
    """A PREMIS agent: who or what performed an event."""

    identifier: str  # e.g. "preserve/0.1.0", an organisation name, a person
    name: str
    type: AgentType | str  # free text only for agents imported from another archive


@dataclass(frozen=True, slots=True)
class Event:
    """A PREMIS event to be appended to the log (the catalog assigns id and hash chain)."""

    type: EventType | str  # free text only for events imported from another archive
    outcome: EventOutcome | str
    time: dt.datetime  # timezone-aware UTC
    agent: Agent
    detail: str = ""
    outcome_detail: str = ""
    package_id: str | None = None
    version: int | None = None
    deposit_id: int | None = None
    object_paths: tuple[str, ...] = field(default_factory=tuple)
    # The PREMIS eventIdentifier (a UUID). Set it when the event is also written elsewhere
    # (the METS of a version) so both name it alike; the catalog assigns one otherwise.
    identifier: str | None = None
    # Set only for events recorded by another archive and imported with a package (see
    # `ImportedFrom`): our log keeps them with their original date, agent and identifier.
    imported: ImportedFrom | None = None
    # The person on whose behalf the software acted (issue 15, "who did what"): the account
    # of a web or API request, the operating-system user of a command. Taken from
    # `acting_as` when the event is made, so the METS and the log name the same person.
    person: Agent | None = field(default_factory=lambda: _ACTING_PERSON.get())


@dataclass(frozen=True, slots=True)
class ImportedFrom:
    """Where an imported event comes from: the archive that recorded it and its identifier.

    `identifier_type`/`identifier` are that archive's PREMIS eventIdentifierType and
    eventIdentifierValue (PREMIS 3.0, 2.1.1), kept verbatim so every later export names the
    event as its first archive did.
    """

    origin: str
    identifier_type: str
    identifier: str


def vocabulary_value(value: str) -> str:
    """The plain string of a vocabulary term: an enum member's value, or free text as is.

    Our own events use the enums; events imported from another archive may use terms outside
    them (PREMIS recommends, does not require, the LoC vocabularies), kept as given.
    """
    return value.value if isinstance(value, Enum) else value


def software_agent() -> Agent:
    """This software as a PREMIS agent: the one that performs ingests, audits and exports."""
    return Agent(f"{SOFTWARE_NAME}/{__version__}", f"{SOFTWARE_NAME} {__version__}",
                 AgentType.SOFTWARE)


#: The person acting in this context (a command run, a web request); see `acting_as`.
_ACTING_PERSON: contextvars.ContextVar[Agent | None] = contextvars.ContextVar(
    "preserve_acting_person", default=None)


def person_agent(name: str, *, kind: str) -> Agent:
    """A person as a PREMIS agent (agentType "person"). `kind` says how the person was
    known: "account" (a web or API account of this repository) or "os-user" (the
    operating-system user who ran a command); the identifier is `kind:name`, so an account
    and a login of the same name stay two agents."""
    return Agent(f"{kind}:{name}", name, AgentType.PERSON)


@contextmanager
def acting_as(person: Agent | None) -> Iterator[None]:
    """Every `Event` made inside the block names `person` beside the software agent (a
    context variable: each thread and each asyncio task of the web app keeps its own)."""
    token = _ACTING_PERSON.set(person)
    try:
        yield
    finally:
        _ACTING_PERSON.reset(token)


def acting_person() -> Agent | None:
    """The person set by the innermost `acting_as`, if any."""
    return _ACTING_PERSON.get()


def utc_now() -> dt.datetime:
    """The one clock: timezone-aware UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The head of the event log's hash chain: how many events it holds and the last one's
    hash (issue 11 item 3). Kept in storage beside the catalog, printed in every audit report,
    so that cutting events off the end of the log can be seen."""

    events: int
    hash: str

    def as_dict(self) -> dict[str, object]:
        return {"events": self.events, "hash": self.hash}
