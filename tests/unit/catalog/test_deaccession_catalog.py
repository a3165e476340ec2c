"""The deaccession rows of the catalog (issue 16 §2), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from preserve.catalog import Catalog
from preserve.errors import CatalogError
from preserve.model import Agent, AgentType, Event, EventOutcome, EventType

from .helpers import T0
from .test_repository import ingest

PACKAGE = "Қўлёзма-1"


def _deaccession_event() -> Event:
    return Event(type=EventType.DEACCESSION, outcome=EventOutcome.SUCCESS,
                 time=T0 + dt.timedelta(hours=2),
                 agent=Agent("aigerim", "aigerim", AgentType.PERSON), detail="removed",
                 package_id=PACKAGE, identifier=str(uuid.uuid4()))


def test_request_approve_complete_leaves_a_tombstone(catalog: Catalog):
    ingest(catalog, PACKAGE)
    ingest(catalog, "other")
    assert catalog.package_state(PACKAGE) == "active"
    made = catalog.add_deaccession_request(package_id=PACKAGE, reason="сабаб", person="dilnoza",
                                           at=T0)
    with pytest.raises(CatalogError):  # one open request per package
        catalog.add_deaccession_request(package_id=PACKAGE, reason="x", person="x", at=T0)
    approved = catalog.decide_deaccession(made.id, state="approved", person="aigerim",
                                          at=T0 + dt.timedelta(hours=1), note=None,
                                          final_mets="<mets/> ممنوع".encode())
    assert approved.state == "approved" and approved.has_final_mets
    with pytest.raises(CatalogError):  # decided once
        catalog.decide_deaccession(made.id, state="rejected", person="x", at=T0, note="n",
                                   final_mets=None)
    events_before = len(catalog.events(PACKAGE))
    done = catalog.complete_deaccession(made.id, at=T0 + dt.timedelta(hours=2),
                                        event=_deaccession_event())
    assert done.state == "completed" and done.completed_at is not None
    assert catalog.package_state(PACKAGE) == "deaccessioned"
    assert catalog.final_mets(made.id) == "<mets/> ممنوع".encode()
    # Tombstone: versions, files and events stay; copies go; other packages untouched.
    detail = catalog.get_package(PACKAGE)
    assert detail.state == "deaccessioned" and detail.versions and detail.files
    assert all(not f.copies for f in detail.files)
    assert len(catalog.events(PACKAGE)) == events_before + 1
    assert [c.package_id for c in catalog.package_copies()] == ["other"]
    assert catalog.package_ids() == ["other"]
    assert catalog.verify_chain().ok
    with pytest.raises(CatalogError):  # completed once
        catalog.complete_deaccession(made.id, at=T0, event=_deaccession_event())
