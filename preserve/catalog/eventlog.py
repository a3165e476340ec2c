"""Appending to, reading and verifying the event log (DESIGN.md, "Catalog": events).

Functions of an open session, used by `repository.Catalog` inside its transactions. Appends
are serialised so that two writers can never fork the chain: `lock_chain` takes a
transaction-scoped PostgreSQL advisory lock before the last hash is read; on SQLite every
transaction already began IMMEDIATE (`engine.py`), which holds the database write lock.
Agents are found by their identifier and created on first use; their names are not updated,
because the chain hashes the identifier and a log must keep saying who acted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session, aliased

from preserve.catalog import chain
from preserve.catalog.records import AgentRecord, EventRecord
from preserve.catalog.views import ChainReport, EventView
from preserve.model import (
    Agent,
    AgentType,
    ChainHead,
    Event,
    EventOutcome,
    EventType,
    ImportedFrom,
    vocabulary_value,
)

#: Key of the PostgreSQL advisory lock that serialises appends to the event chain
#: (ASCII "presevnt"; any constant works as long as every writer uses the same one).
CHAIN_LOCK_KEY = 0x7072657365766E74


def lock_chain(session: Session) -> None:
    """Make this transaction the only appender until it ends (call before any other write)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    # SQLite: the transaction began IMMEDIATE, so this writer already holds the lock.


def append(session: Session, events: Sequence[Event]) -> list[EventView]:
    """Append `events` in order after the last row; `lock_chain` must have been called."""
    if not events:
        return []
    prev_hash = session.scalar(
        select(EventRecord.hash).order_by(EventRecord.id.desc()).limit(1)
    ) or chain.GENESIS_HASH
    agents: dict[str, AgentRecord] = {}
    views = []
    for event in events:
        agent = agents.get(event.agent.identifier) or _agent(session, event.agent)
        agents[agent.identifier] = agent
        person = None
        if event.person is not None:
            person = agents.get(event.person.identifier) or _agent(session, event.person)
            agents[person.identifier] = person
        record = EventRecord(
            identifier=event.identifier or str(uuid.uuid4()),
            type=_term(EventType, event.type, event),
            time=_utc(event.time),
            outcome=_term(EventOutcome, event.outcome, event),
            detail=event.detail,
            outcome_detail=event.outcome_detail,
            agent_id=agent.id,
            person_agent_id=person.id if person is not None else None,
            package_id=event.package_id,
            version=event.version,
            deposit_id=event.deposit_id,
            object_paths=list(event.object_paths),
            prev_hash=prev_hash,
        )
        if event.imported is not None:
            record.origin = event.imported.origin
            record.source_identifier_type = event.imported.identifier_type
            record.source_identifier = event.imported.identifier
        record.hash = chain.link_hash(
            _link(record, agent.identifier, person.identifier if person else None))
        session.add(record)
        session.flush()  # one at a time, so ids follow chain order
        views.append(_view(record, agent, person))
        prev_hash = record.hash
    # The new head, for the anchor outside the catalog (repository.Catalog writes it after
    # the commit): counted inside this transaction, which holds the chain lock.
    session.info["chain_head"] = head(session)
    return views


def head(session: Session) -> ChainHead:
    """The chain's head now: how many events, and the last one's hash."""
    count = session.scalar(select(func.count()).select_from(EventRecord)) or 0
    last = session.scalar(select(EventRecord.hash).order_by(EventRecord.id.desc()).limit(1))
    return ChainHead(count, last or chain.GENESIS_HASH)


#: Triggers that make the events table append-only (migration 0001), by database.
GUARDS = {
    "sqlite": ("events_no_update", "events_no_delete"),
    "postgresql": ("events_append_only", "events_no_truncate"),
}


def missing_guards(session: Session) -> list[str]:
    """The append-only triggers of the events table that are not in the database."""
    dialect = session.get_bind().dialect.name
    wanted = GUARDS.get(dialect, ())
    if dialect == "sqlite":
        present = set(session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")))
    elif dialect == "postgresql":
        present = set(session.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass "
            "AND NOT tgisinternal AND tgenabled <> 'D'")))
    else:
        return []
    return [name for name in wanted if name not in present]


def _with_agents(package_id: str | None) -> Select[EventRecord, AgentRecord, AgentRecord]:
    """Events (all, or one package's) with their software agent and person (if any)."""
    person = aliased(AgentRecord)
    query = select(EventRecord, AgentRecord, person).join(
        AgentRecord, EventRecord.agent_id == AgentRecord.id
    ).outerjoin(person, EventRecord.person_agent_id == person.id)
    if package_id is not None:
        query = query.where(EventRecord.package_id == package_id)
    return query


def event_views(session: Session, package_id: str | None = None) -> Iterator[EventView]:
    """Events in log (id) order, all or those of one package."""
    for record, agent, person in session.execute(
            _with_agents(package_id).order_by(EventRecord.id)):
        yield _view(record, agent, person)


def event_page(session: Session, package_id: str | None, *, limit: int,
               offset: int) -> tuple[int, list[EventView]]:
    """The total of events (all, or one package's) and `limit` of them, newest first."""
    where = [EventRecord.package_id == package_id] if package_id is not None else []
    total = session.scalar(select(func.count()).select_from(EventRecord).where(*where)) or 0
    query = _with_agents(package_id).order_by(EventRecord.id.desc()).limit(limit).offset(offset)
    return int(total), [_view(record, agent, person)
                        for record, agent, person in session.execute(query)]


def known_identifiers(session: Session, identifiers: Sequence[str]) -> list[str]:
    """Those of `identifiers` already in the log."""
    return list(session.scalars(
        select(EventRecord.identifier).where(EventRecord.identifier.in_(identifiers))))


def verify(session: Session, anchored: ChainHead | None = None) -> ChainReport:
    """Recompute every row's hash and link, streaming in id order; compare with `anchored`."""
    person = aliased(AgentRecord)
    rows = session.execute(
        select(EventRecord, AgentRecord.identifier, person.identifier)
        .join(AgentRecord, EventRecord.agent_id == AgentRecord.id)
        .outerjoin(person, EventRecord.person_agent_id == person.id)
        .order_by(EventRecord.id)
        .execution_options(yield_per=1000)
    )
    return chain.verify(((record.id, _link(record, agent, person_id), record.hash)
                         for record, agent, person_id in rows), anchored)


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; events need UTC times")
    return value.astimezone(dt.UTC)


def _agent(session: Session, agent: Agent) -> AgentRecord:
    """The agents row for `agent`, created on first use (identified by its identifier)."""
    record = session.scalar(select(AgentRecord).where(AgentRecord.identifier == agent.identifier))
    if record is None:
        record = AgentRecord(identifier=agent.identifier, name=agent.name,
                             type=vocabulary_value(agent.type))
        session.add(record)
        session.flush()
    return record


def _link(record: EventRecord, agent_identifier: str,
          person_identifier: str | None) -> chain.ChainLink:
    return chain.ChainLink(
        identifier=record.identifier, type=record.type, time=record.time,
        outcome=record.outcome, detail=record.detail, outcome_detail=record.outcome_detail,
        agent=agent_identifier, package_id=record.package_id, version=record.version,
        deposit_id=record.deposit_id, object_paths=tuple(record.object_paths),
        prev_hash=record.prev_hash, origin=record.origin,
        source_identifier_type=record.source_identifier_type,
        source_identifier=record.source_identifier, person=person_identifier,
    )


def _term(vocabulary: type[EventType] | type[EventOutcome], value: str, event: Event) -> str:
    """Our own events must use the LoC terms (a typo is a bug); imported ones keep theirs."""
    if event.imported is not None:
        return vocabulary_value(value)
    return str(vocabulary(value).value)


def _known(vocabulary, value: str):  # type: ignore[no-untyped-def]
    """The enum member for a stored term, or the term itself when it is not ours."""
    try:
        return vocabulary(value)
    except ValueError:
        return value


def _agent_value(record: AgentRecord) -> Agent:
    return Agent(identifier=record.identifier, name=record.name,
                 type=_known(AgentType, record.type))


def _view(record: EventRecord, agent: AgentRecord, person: AgentRecord | None) -> EventView:
    return EventView(
        id=record.id, identifier=record.identifier, type=_known(EventType, record.type),
        outcome=_known(EventOutcome, record.outcome), time=record.time,
        agent=_agent_value(agent),
        detail=record.detail, outcome_detail=record.outcome_detail,
        package_id=record.package_id, version=record.version, deposit_id=record.deposit_id,
        object_paths=tuple(record.object_paths), prev_hash=record.prev_hash, hash=record.hash,
        imported=None if record.origin is None else ImportedFrom(
            record.origin, record.source_identifier_type or "", record.source_identifier or ""),
        person=_agent_value(person) if person is not None else None,
    )
