"""An intent record written in pieces is the one JSON document it always was, and reads back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from preserve.catalog import IngestRecord, StoredFile
from preserve.catalog.intent import (
    Intent,
    intent_bytes,
    iter_intent_bytes,
    parse_intent,
)
from preserve.catalog.intent import _intent_json as intent_json
from preserve.model import Finding, Severity

from .helpers import make_event

WHEN = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
NAMES = ['data/q"uo\\te "files": [].txt', "data/Ўзбекистон/қўлёзма.tif", "data/ctl\x01\n.pdf",
         "metadata/mets.xml"]


def _intent(files: int) -> Intent:
    stored = tuple(StoredFile(path=f"{NAMES[n % len(NAMES)]}{n}", size=n, sha256=f"{n:064x}",
                              sha512=f"{n:0128x}", content_path=f"v1/content/{n}",
                              format="fmt/353" if n % 2 else None, format_name="TIFF")
                   for n in range(files))
    record = IngestRecord(
        package_id='pkg "files": []', version=1, created=WHEN, title="Девон", external_identifiers=("x",),
        payload_fingerprint="f" * 64, location="local", deposit_id=3, message="ingest",
        files=stored, findings=(Finding(code="META-W004", severity=Severity.WARNING,
                                        path="metadata/mets.xml", message="no schemas"),),
        inventory_sha512="a" * 128)
    return Intent(deposit_id=3, source="/drop/bag", requested_id=None, version_of=None,
                  inventory_sha512="a" * 128, record=record,
                  events=(make_event(), make_event()))


def test_pieces_are_the_one_document() -> None:
    for files in (0, 1, 3, 2500):
        intent = _intent(files)
        whole = json.dumps(intent_json(intent), ensure_ascii=False).encode("utf-8")
        pieces = list(iter_intent_bytes(intent))
        assert b"".join(pieces) == whole == intent_bytes(intent)
        if files == 2500:
            assert len(pieces) > 1


def test_read_back() -> None:
    intent = _intent(5)
    again = parse_intent(intent_bytes(intent))
    assert again is not None
    assert again.record.files == intent.record.files
    assert dataclasses.replace(again, events=intent.events) == intent
