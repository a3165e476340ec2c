"""Every public method of Catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from preserve.catalog import (
    Catalog,
    DepositView,
    IngestRecord,
    PackageDetail,
    StoredFile,
    repository,
)
from preserve.errors import CatalogError, PackageNotFound
from preserve.model import EventOutcome, EventType, Finding, Severity

from .helpers import AGENT, T0, make_event

CYRILLIC = "data/рукопись №1/лист 001.tif"
ARABIC = "data/مخطوطة/ورقة ١.tif"
# The same visible name in NFC and NFD must stay two distinct, byte-exact paths.
NFC = "data/caf\u00e9.txt"
NFD = "data/cafe\u0301.txt"


def stored(path: str, content: bytes, fmt: str | None = None) -> StoredFile:
    return StoredFile(
        path=path, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        sha512=hashlib.sha512(content).hexdigest(), content_path=f"v1/content/{path}",
        format=fmt,
    )


FILES = (
    stored(CYRILLIC, b"scan one", "fmt/353"),
    stored(ARABIC, b"scan two"),
    stored(NFC, b"nfc"),
    stored(NFD, b"nfd"),
    stored("bagit.txt", b"BagIt-Version: 1.0\n"),
    stored("metadata/mets.xml", b"<mets/>"),
)
PAYLOAD = tuple(f for f in FILES if f.path.startswith("data/"))


def ingest(catalog: Catalog, package_id: str = "pkg-1", version: int = 1, **changes) -> IngestRecord:
    catalog.ensure_location("local", "file:///repo/ocfl")
    deposit_id = catalog.begin_deposit(source="/deposits/bag", kind="bag", started=T0)
    record = IngestRecord(
        package_id=package_id, version=version, created=T0 + dt.timedelta(minutes=version),
        title="Қўлёзма / مخطوطة", external_identifiers=("MS-001", "urn:x:1"),
        payload_fingerprint=f"fp-{package_id}-{version}", location="local",
        deposit_id=deposit_id, message=f"version {version}", files=FILES,
    )
    record = dataclasses.replace(record, **changes)
    events = [
        make_event(1, type=EventType.MESSAGE_DIGEST_CALCULATION, package_id=package_id,
                   version=version, deposit_id=deposit_id, paths=(CYRILLIC, ARABIC)),
        make_event(2, package_id=package_id, version=version, deposit_id=deposit_id),
    ]
    catalog.record_ingest(record, events)
    return record


def test_deposit_lifecycle_rejected(catalog: Catalog):
    deposit_id = catalog.begin_deposit(source="/in/bag.zip", kind="zip", started=T0)
    [view] = catalog.deposits()
    assert view.status == "in_progress" and view.finished is None and view.findings == ()
    findings = (
        Finding("BAG-E001", Severity.ERROR, "bagit.txt", "missing"),
        Finding("PAY-W001", Severity.WARNING, ARABIC, "odd name"),
    )
    failure = make_event(3, type=EventType.VALIDATION, outcome=EventOutcome.FAILURE,
                         deposit_id=deposit_id)
    catalog.finish_deposit(deposit_id, status="rejected", findings=findings,
                           finished=T0 + dt.timedelta(seconds=5), events=[failure])
    [view] = catalog.deposits()
    assert view == DepositView(
        id=deposit_id, source="/in/bag.zip", kind="zip", status="rejected", started=T0,
        finished=T0 + dt.timedelta(seconds=5), package_id=None, version=None,
        findings=findings, error_count=1, warning_count=1,
    )
    [event] = catalog.events()
    assert event.type is EventType.VALIDATION and event.outcome is EventOutcome.FAILURE
    assert event.deposit_id == deposit_id and event.package_id is None


def test_finish_deposit_rejects_unknown_status_and_deposit(catalog: Catalog):
    deposit_id = catalog.begin_deposit(source="s", kind="dir", started=T0)
    with pytest.raises(ValueError):
        catalog.finish_deposit(deposit_id, status="in_progress", findings=(), finished=T0)
    with pytest.raises(CatalogError):
        catalog.finish_deposit(deposit_id + 99, status="accepted", findings=(), finished=T0)
    catalog.finish_deposit(deposit_id, status="rejected", findings=(), finished=T0)
    with pytest.raises(CatalogError, match="already rejected"):
        catalog.finish_deposit(deposit_id, status="accepted", findings=(), finished=T0)


def test_ensure_location_is_idempotent(catalog: Catalog):
    catalog.ensure_location("local", "file:///a")
    catalog.ensure_location("local", "file:///a")
    catalog.ensure_location("local", "file:///b")  # moved repository
    record = ingest(catalog)
    assert catalog.get_package(record.package_id).files[0].copies[0].location == "local"


def test_record_ingest_and_read_back(catalog: Catalog):
    record = ingest(catalog)
    assert catalog.package_exists("pkg-1") and not catalog.package_exists("pkg-2")
    detail = catalog.get_package("pkg-1")
    assert isinstance(detail, PackageDetail)
    assert detail.title == record.title
    assert detail.external_identifiers == ("MS-001", "urn:x:1")
    assert detail.created == record.created and detail.created.tzinfo is not None
    assert [v.number for v in detail.versions] == [1]
    # version counts are of the payload (data/) only; tag files are rows all the same
    assert detail.versions[0].file_count == len(PAYLOAD)
    assert detail.versions[0].byte_count == sum(f.size for f in PAYLOAD)
    by_path = {f.path: f for f in detail.files}
    assert set(by_path) == {f.path for f in FILES}  # payload and tag files, byte-exact
    for original in FILES:
        got = by_path[original.path]
        assert got.path.encode("utf-8") == original.path.encode("utf-8")
        assert (got.size, got.sha256, got.sha512, got.format, got.content_path) == (
            original.size, original.sha256, original.sha512, original.format,
            original.content_path)
        assert [(c.location, c.status, c.last_fixity_at) for c in got.copies] == [
            ("local", "ok", None)]
    assert [e.type for e in detail.events] == [
        EventType.MESSAGE_DIGEST_CALCULATION, EventType.INGESTION]
    assert detail.events[0].object_paths == (CYRILLIC, ARABIC)
    [deposit] = catalog.deposits()
    assert (deposit.status, deposit.package_id, deposit.version) == ("accepted", "pkg-1", 1)
    assert catalog.verify_chain().ok


def test_record_ingest_in_batches(catalog: Catalog, monkeypatch: pytest.MonkeyPatch):
    # More files than one batch holds, the last batch short: every file keeps its own copy.
    monkeypatch.setattr(repository, "FILE_BATCH", 4)
    ingest(catalog)
    detail = catalog.get_package("pkg-1")
    assert sorted(f.path for f in detail.files) == sorted(f.path for f in FILES)
    for got in detail.files:
        assert [(c.location, c.content_path) for c in got.copies] == [
            ("local", got.content_path)]
    assert catalog.verify_chain().ok


def test_second_version(catalog: Catalog):
    ingest(catalog)
    extra = stored("data/new.txt", b"new")
    warning = Finding("PAY-W001", Severity.WARNING, "data/new.txt", "odd name")
    ingest(catalog, version=2, title="New title", external_identifiers=("MS-001", "MS-002"),
           files=FILES + (extra,), findings=(warning,))
    deposit = catalog.deposits()[-1]
    assert (deposit.status, deposit.version, deposit.findings) == ("accepted", 2, (warning,))
    assert (deposit.error_count, deposit.warning_count) == (0, 1)
    detail = catalog.get_package("pkg-1")
    assert detail.title == "New title"
    assert detail.external_identifiers == ("MS-001", "MS-002", "urn:x:1")
    assert [v.number for v in detail.versions] == [1, 2] and detail.head == 2
    assert len(detail.files_of(1)) == len(FILES) and len(detail.files_of(2)) == len(FILES) + 1
    [summary] = catalog.list_packages()
    assert (summary.versions, summary.files) == (2, len(PAYLOAD) + 1)
    assert summary.bytes == sum(f.size for f in PAYLOAD) + 3
    # both payload fingerprints still find the package
    assert catalog.package_with_fingerprint("fp-pkg-1-1") == "pkg-1"
    assert catalog.package_with_fingerprint("fp-pkg-1-2") == "pkg-1"
    assert catalog.package_with_fingerprint("fp-other") is None


def test_version_gaps_and_duplicates_are_refused(catalog: Catalog):
    ingest(catalog)
    with pytest.raises(CatalogError):
        ingest(catalog)  # version 1 again
    with pytest.raises(CatalogError):
        ingest(catalog, version=3)
    with pytest.raises(PackageNotFound):
        ingest(catalog, package_id="ghost", version=2)
    # nothing of the refused attempts was recorded
    assert [v.number for v in catalog.get_package("pkg-1").versions] == [1]
    assert len(catalog.events()) == 2
    assert catalog.verify_chain().ok


def test_unknown_location_and_bad_digest_roll_back(catalog: Catalog):
    with pytest.raises(CatalogError):
        ingest(catalog, location="elsewhere")
    bad = dataclasses.replace(FILES[0], sha256="A" * 64)
    with pytest.raises(CatalogError):
        ingest(catalog, files=(bad,))
    negative = dataclasses.replace(FILES[0], size=-1)
    with pytest.raises(CatalogError):
        ingest(catalog, files=(negative,))
    assert catalog.list_packages() == [] and catalog.events() == []
    assert {d.status for d in catalog.deposits()} == {"in_progress"}


def test_list_packages(catalog: Catalog):
    assert catalog.list_packages() == []
    ingest(catalog, "pkg-b")
    ingest(catalog, "pkg-a", external_identifiers=("MS-777",))
    summaries = catalog.list_packages()
    assert [s.package_id for s in summaries] == ["pkg-a", "pkg-b"]  # same time: by id
    assert summaries[0].external_identifiers == ("MS-777",)
    assert summaries[1].files == len(PAYLOAD) and summaries[1].versions == 1


def test_get_missing_package(catalog: Catalog):
    with pytest.raises(PackageNotFound) as caught:
        catalog.get_package("nope")
    assert "nope" in caught.value.message


def test_packages_with_identifiers(catalog: Catalog):
    assert catalog.packages_with_identifiers([]) == {}
    ingest(catalog, "pkg-1")
    ingest(catalog, "pkg-2", external_identifiers=("ISBN-٩٧٨",))
    assert catalog.packages_with_identifiers(["MS-001", "ISBN-٩٧٨", "other"]) == {
        "MS-001": "pkg-1", "ISBN-٩٧٨": "pkg-2"}


def test_events_filter_and_append(catalog: Catalog):
    ingest(catalog, "pkg-1")
    appended = catalog.append_events([make_event(10, type=EventType.FIXITY_CHECK,
                                                 package_id="pkg-1", version=1)])
    assert appended[0].agent == AGENT
    assert appended[0].id == catalog.events()[-1].id
    assert catalog.append_events([]) == []
    other = catalog.append_events([make_event(11, package_id="pkg-9")])
    assert [e.id for e in catalog.events("pkg-1")] == [e.id for e in catalog.events()][:3]
    assert catalog.events("pkg-9") == other
    ids = [e.id for e in catalog.events()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_timestamps_round_trip_aware_utc(catalog: Catalog):
    tashkent = dt.timezone(dt.timedelta(hours=5))
    local = dt.datetime(2026, 7, 1, 12, 0, 0, 999999, tzinfo=tashkent)
    deposit_id = catalog.begin_deposit(source="s", kind="dir", started=local)
    [event] = catalog.append_events([dataclasses.replace(make_event(), time=local)])
    [deposit] = catalog.deposits()
    for value in (deposit.started, event.time, catalog.events()[0].time):
        assert value == local
        assert value.utcoffset() == dt.timedelta(0) and value.tzinfo is not None
        assert value.hour == 7 and value.microsecond == 999999
    with pytest.raises(ValueError):
        catalog.begin_deposit(source="s", kind="dir", started=dt.datetime(2026, 1, 1))
    assert deposit_id == deposit.id
