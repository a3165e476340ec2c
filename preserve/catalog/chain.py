"""The hash chain of the event log (DESIGN.md, "Catalog": events are append-only and chained).

Each event row carries `prev_hash` (the previous row's `hash`, or 64 zeros for the first row)
and `hash`, the sha256 of a canonical serialisation of the row's content plus `prev_hash`.
Editing any hashed field of a row breaks that row's hash; deleting or reordering rows breaks
the next row's `prev_hash` link. Only truncating the newest rows cannot be seen from the
chain alone; exports and backups of the last hash cover that.

The serialisation is fixed forever (`CHAIN_FORMAT` names it): JSON with sorted keys, no
whitespace, UTF-8 without escaping, an explicit list of fields, times as ISO-8601 UTC with
microseconds and a `Z`. Events imported from another archive (migration 0002) add three
keys, `origin`, `source_identifier_type` and `source_identifier`; rows without them hash
exactly as before, so logs written before 0002 still verify. Likewise an event done on behalf
of a person (migration 0010, issue 15) adds the key `person`, the person agent's identifier;
events without one hash as before. The row's integer id is not
hashed: the order of the chain is the order of ids, and the `prev_hash` links already pin
it. The agent is hashed by its stable identifier, not by its database id.

Standard library only (and the core `preserve.model`), so other tools can re-verify an exported
log with this module and that one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from preserve.model import ChainHead

#: prev_hash of the first event.
GENESIS_HASH = "0" * 64

#: Version tag hashed into every row, so a future format can be told apart.
CHAIN_FORMAT = 1

#: The hashed fields, in the order they are documented (JSON sorts them anyway).
HASHED_FIELDS: tuple[str, ...] = (
    "identifier", "type", "time", "outcome", "detail", "outcome_detail", "agent",
    "package_id", "version", "deposit_id", "object_paths", "prev_hash",
)
#: Hashed too, for imported events only (absent keys for our own events).
IMPORTED_FIELDS: tuple[str, ...] = ("origin", "source_identifier_type", "source_identifier")
#: Hashed too, for events done on behalf of a person only.
PERSON_FIELDS: tuple[str, ...] = ("person",)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """The hashed content of one event row, as stored."""

    identifier: str
    type: str
    time: dt.datetime
    outcome: str
    detail: str
    outcome_detail: str
    agent: str  # the agent's identifier
    package_id: str | None
    version: int | None
    deposit_id: int | None
    object_paths: Sequence[str]
    prev_hash: str
    origin: str | None = None
    source_identifier_type: str | None = None
    source_identifier: str | None = None
    person: str | None = None  # the person agent's identifier


def format_time(value: dt.datetime) -> str:
    """ISO-8601 UTC with microseconds and `Z`: one spelling for one instant."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be hashed; use UTC")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(link: ChainLink) -> bytes:
    """The exact bytes that are hashed for `link`."""
    document = {
        "format": CHAIN_FORMAT,
        "identifier": link.identifier,
        "type": link.type,
        "time": format_time(link.time),
        "outcome": link.outcome,
        "detail": link.detail,
        "outcome_detail": link.outcome_detail,
        "agent": link.agent,
        "package_id": link.package_id,
        "version": link.version,
        "deposit_id": link.deposit_id,
        "object_paths": list(link.object_paths),
        "prev_hash": link.prev_hash,
    }
    if link.person is not None:
        document["person"] = link.person
    if link.origin is not None:
        document["origin"] = link.origin
        document["source_identifier_type"] = link.source_identifier_type
        document["source_identifier"] = link.source_identifier
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def link_hash(link: ChainLink) -> str:
    """sha256 hex of the canonical serialisation of `link`."""
    return hashlib.sha256(canonical_bytes(link)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `verify` found: `ok`, how many rows were checked, and the first bad row if any.

    `head` is the chain's head as found (count and last hash); `anchored` the head kept
    outside the catalog that it was compared with, if any.
    """

    ok: bool
    checked: int
    first_bad_id: int | None
    problem: str
    head: ChainHead | None = None
    anchored: ChainHead | None = None


def verify(rows: Iterable[tuple[int, ChainLink, str]],
           anchored: ChainHead | None = None) -> ChainReport:
    """Check `(id, link, stored_hash)` rows given in id order; stop at the first bad row.

    With `anchored`, the row at position `anchored.events` must carry `anchored.hash` and
    the log must be at least that long: events cut off the end, or a whole log replaced by
    another valid one, are caught.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    for row_id, link, stored_hash in rows:
        checked += 1
        if anchored is not None and checked == anchored.events and stored_hash != anchored.hash:
            problem = (
                f"event {row_id} is event number {checked} of the log, but the head anchored "
                f"in storage says event {checked} has hash {anchored.hash}, not "
                f"{stored_hash}; the log was replaced or rewritten from here on"
            )
            return ChainReport(False, checked, row_id, problem, None, anchored)
        if link.prev_hash != expected_prev:
            problem = (
                f"event {row_id}: prev_hash {link.prev_hash} does not match the hash of the "
                f"row before it ({expected_prev}); a row was deleted, inserted or reordered"
            )
            return ChainReport(False, checked, row_id, problem, None, anchored)
        computed = link_hash(link)
        if computed != stored_hash:
            problem = (
                f"event {row_id}: stored hash {stored_hash} does not match its content "
                f"(recomputed {computed}); the row was edited"
            )
            return ChainReport(False, checked, row_id, problem, None, anchored)
        expected_prev = stored_hash
    head = ChainHead(checked, expected_prev if checked else GENESIS_HASH)
    if anchored is not None and checked < anchored.events:
        problem = (
            f"the log holds {checked} events but the head anchored in storage says "
            f"{anchored.events} (last hash {anchored.hash}): {anchored.events - checked} "
            "event(s) were cut off its end"
        )
        return ChainReport(False, checked, None, problem, head, anchored)
    return ChainReport(True, checked, None, "", head, anchored)
