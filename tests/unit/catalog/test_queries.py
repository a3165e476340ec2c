"""Paged package queries computed in SQL (issue 15, service layer), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from preserve.catalog import Catalog

from .test_repository import FILES, ingest

TITLES = {"pkg-a": "Қўлёзма китоби", "pkg-b": "Oʻzbekiston tarixi", "pkg-c": "مخطوطة قديمة",
          "pkg-d": "ҚОЛЖАЗБА", "pkg-e": "Latin manuscript"}


@pytest.fixture
def filled(catalog: Catalog) -> Catalog:
    for package_id, title in TITLES.items():
        ingest(catalog, package_id, title=title,
               external_identifiers=(f"MS-{package_id[-1].upper()}",))
    ingest(catalog, "pkg-a", version=2, title=TITLES["pkg-a"], files=FILES[:2],
           external_identifiers=("MS-A",))
    return catalog


def test_pages_cover_every_package_once_in_order(filled: Catalog):
    first = filled.package_page(page=1, per_page=2)
    second = filled.package_page(page=2, per_page=2)
    third = filled.package_page(page=3, per_page=2)
    assert first.total == 5 and first.pages == 3
    ids = [p.package_id for page in (first, second, third) for p in page.items]
    assert ids == list(TITLES)
    assert filled.package_page(page=4, per_page=2).items == ()


def test_counts_are_those_of_the_head_version(filled: Catalog):
    [a] = [p for p in filled.package_page(per_page=10).items if p.package_id == "pkg-a"]
    assert (a.versions, a.files, a.bytes) == (2, 2, sum(f.size for f in FILES[:2]))
    assert a.external_identifiers == ("MS-A",) and a.title == TITLES["pkg-a"]
    assert a.latest_version_created is not None and a.latest_version_created > a.created
    assert a.problem_copies == 0


def test_newest_first_and_by_id(filled: Catalog):
    newest = [p.package_id for p in filled.package_page(per_page=10, sort="-created").items]
    assert newest == list(reversed(TITLES))
    assert [p.package_id for p in filled.package_page(per_page=10, sort="id").items] == sorted(TITLES)


def test_text_matches_id_identifier_and_title(filled: Catalog):
    def ids(text: str) -> list[str]:
        return [p.package_id for p in filled.package_page(per_page=10, text=text).items]

    assert ids("pkg-c") == ["pkg-c"]
    assert ids("ms-d") == ["pkg-d"]
    assert ids("قديمة") == ["pkg-c"]
    assert ids("tarixi") == ["pkg-b"]
    assert ids("%") == []  # LIKE wildcards are matched literally
    assert filled.package_page(text="nothing such").total == 0


def test_paging_arguments_are_checked(filled: Catalog):
    with pytest.raises(ValueError):
        filled.package_page(page=0)
    with pytest.raises(ValueError):
        filled.package_page(per_page=10_000)
    page = filled.package_page(per_page=1)
    assert dataclasses.asdict(page)["total"] == 5
