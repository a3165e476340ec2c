"""An ingest's intent record: the catalog transaction it is about to run, as JSON.

An ingest writes it (preserve.ingest.recovery) into its work directory before it moves a
version into the storage root; the re-run of that ingest and `preserve check --repair` read it
to record a version stored by a killed ingest exactly as planned: the same rows, the same
PREMIS event identifiers its METS names (DESIGN.md Rules: re-running is safe). It lives with
the catalog because it *is* a catalog transaction, serialized; files are the caller's business.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from preserve.catalog.views import IngestRecord, StoredFile
from preserve.model import (
    Agent,
    AgentType,
    Event,
    EventOutcome,
    EventType,
    Finding,
    ImportedFrom,
    Severity,
    vocabulary_value,
)

INTENT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Intent:
    """What one ingest was about to commit (see the module docstring)."""

    deposit_id: int
    source: str
    requested_id: str | None  # --id as given
    version_of: str | None  # --as-version-of as given
    inventory_sha512: str
    record: IngestRecord
    events: tuple[Event, ...]

    @property
    def package_id(self) -> str:
        return self.record.package_id

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def fingerprint(self) -> str:
        return self.record.payload_fingerprint


def intent_bytes(intent: Intent) -> bytes:
    """The intent as UTF-8 JSON."""
    return b"".join(iter_intent_bytes(intent))


#: Where the files go in the JSON text of the rest of an intent (its only `files` key: the
#: quotes of a key cannot occur unescaped inside a JSON string).
_FILES = '"files": []'
#: `iter_intent_bytes` hands out the text in pieces of about this many characters.
_PIECE = 1 << 16


def iter_intent_bytes(intent: Intent) -> Iterator[bytes]:
    """`intent_bytes(intent)` in pieces: the rows of the files one at a time, so that the
    record of 200,000 files is never held as one JSON document (docs/performance.md,
    "Memory per file"). The text is the same as `json.dumps` of the whole would give."""
    document = _intent_json(intent, with_files=False)
    head, found, tail = json.dumps(document, ensure_ascii=False).partition(_FILES)
    if not found or _FILES in tail:  # a bug: the one `files` key is the record's
        raise AssertionError("the intent's JSON lost its place for the files")
    pending = [head, '"files": [']
    size = 0
    names = [f.name for f in dataclasses.fields(StoredFile)]
    for n, stored in enumerate(intent.record.files):
        text = json.dumps({name: getattr(stored, name) for name in names}, ensure_ascii=False)
        pending.append(", " + text if n else text)
        size += len(text)
        if size >= _PIECE:
            yield "".join(pending).encode("utf-8")
            pending.clear()
            size = 0
    pending += ["]", tail]
    yield "".join(pending).encode("utf-8")


def parse_intent(data: bytes | str) -> Intent | None:
    """The intent in `data`; None if it is of another format. ValueError/KeyError/TypeError
    if it is torn or malformed."""
    raw = json.loads(data)
    if raw.get("format") != INTENT_FORMAT:
        return None
    return _intent_from(raw)


# --- JSON ------------------------------------------------------------------------------------

def _time(value: dt.datetime) -> str:
    return value.isoformat()


def _intent_json(intent: Intent, *, with_files: bool = True) -> dict[str, Any]:
    r = intent.record
    return {
        "format": INTENT_FORMAT,
        "deposit_id": intent.deposit_id,
        "source": intent.source,
        "requested_id": intent.requested_id,
        "version_of": intent.version_of,
        "inventory_sha512": intent.inventory_sha512,
        "record": {
            "package_id": r.package_id, "version": r.version, "created": _time(r.created),
            "title": r.title, "external_identifiers": list(r.external_identifiers),
            "payload_fingerprint": r.payload_fingerprint, "location": r.location,
            "deposit_id": r.deposit_id, "message": r.message,
            "files": [dataclasses.asdict(f) for f in r.files] if with_files else [],
            "findings": [f.as_dict() for f in r.findings],
        },
        "events": [_event_json(e) for e in intent.events],
    }


def _event_json(e: Event) -> dict[str, Any]:
    imported = e.imported
    return {
        "type": vocabulary_value(e.type), "outcome": vocabulary_value(e.outcome),
        "time": _time(e.time),
        "agent": {"identifier": e.agent.identifier, "name": e.agent.name,
                  "type": vocabulary_value(e.agent.type)},
        "detail": e.detail, "outcome_detail": e.outcome_detail, "package_id": e.package_id,
        "version": e.version, "deposit_id": e.deposit_id, "object_paths": list(e.object_paths),
        "identifier": e.identifier,
        "imported": dataclasses.asdict(imported) if imported is not None else None,
        "person": _agent_json(e.person),
    }


def _agent_json(agent: Agent | None) -> dict[str, str] | None:
    if agent is None:
        return None
    return {"identifier": agent.identifier, "name": agent.name,
            "type": vocabulary_value(agent.type)}


def _enum(kind: type, value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        return value  # free text (imported events)


def _intent_from(raw: dict[str, Any]) -> Intent:
    r = raw["record"]
    record = IngestRecord(
        package_id=r["package_id"], version=int(r["version"]),
        created=dt.datetime.fromisoformat(r["created"]), title=r["title"],
        external_identifiers=tuple(r["external_identifiers"]),
        payload_fingerprint=r["payload_fingerprint"], location=r["location"],
        deposit_id=int(r["deposit_id"]), message=r["message"],
        files=tuple(StoredFile(**f) for f in r["files"]),
        findings=tuple(Finding(code=f["code"], severity=Severity(f["severity"]), path=f["path"],
                               message=f["message"]) for f in r["findings"]),
        # The record's pin is the intent's own inventory digest (one value, stored once).
        inventory_sha512=raw["inventory_sha512"],
    )
    events = []
    for e in raw["events"]:
        fields: dict[str, Any] = dict(
            type=_enum(EventType, e["type"]), outcome=_enum(EventOutcome, e["outcome"]),
            time=dt.datetime.fromisoformat(e["time"]),
            agent=Agent(identifier=e["agent"]["identifier"], name=e["agent"]["name"],
                        type=_enum(AgentType, e["agent"]["type"])),
            detail=e["detail"], outcome_detail=e["outcome_detail"], package_id=e["package_id"],
            version=e["version"], deposit_id=e["deposit_id"],
            object_paths=tuple(e["object_paths"]), identifier=e["identifier"])
        if e.get("imported"):
            fields["imported"] = ImportedFrom(**e["imported"])
        # The person recorded with the intent, not whoever runs the recovery (intent
        # records written before issue 15 have none).
        person = e.get("person")
        fields["person"] = (Agent(identifier=person["identifier"], name=person["name"],
                                  type=_enum(AgentType, person["type"]))
                            if person else None)
        events.append(Event(**fields))
    return Intent(deposit_id=int(raw["deposit_id"]), source=raw["source"],
                  requested_id=raw["requested_id"], version_of=raw["version_of"],
                  inventory_sha512=raw["inventory_sha512"], record=record, events=tuple(events))
