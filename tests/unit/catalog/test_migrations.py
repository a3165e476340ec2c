"""The Alembic history: up, down, up again on both databases; models and history agree;
the catalog refuses a database that is not at HEAD_REVISION."""

from __future__ import annotations

from pathlib import Path

import pytest

from preserve.catalog import (
    HEAD_REVISION,
    Catalog,
    current_revision,
    downgrade,
    schema_differences,
    sqlite_url,
    upgrade,
)
from preserve.catalog.engine import script_head, script_location
from preserve.errors import CatalogError, ExitCode, MigrationNeeded

from .helpers import Backend


def test_head_revision_is_the_head_of_the_history():
    assert script_head() == HEAD_REVISION
    assert (script_location() / "env.py").is_file()
    assert not (script_location().parent / "alembic.ini").exists()


def test_upgrade_downgrade_upgrade(backend: Backend):
    upgrade(backend.url)
    assert current_revision(backend.url) == HEAD_REVISION
    downgrade(backend.url, "base")
    assert current_revision(backend.url) is None
    upgrade(backend.url)
    assert current_revision(backend.url) == HEAD_REVISION
    with Catalog(backend.url) as catalog:
        assert catalog.list_packages() == []


def test_models_and_migration_agree(backend: Backend):
    upgrade(backend.url)
    assert schema_differences(backend.url) == []


def test_unmigrated_database_needs_migration(backend: Backend):
    if backend.sqlite_file is not None:
        backend.sqlite_file.touch()  # an existing but empty database file
    with pytest.raises(MigrationNeeded) as caught:
        Catalog(backend.url)
    assert caught.value.exit_code == ExitCode.CATALOG
    assert "preserve db upgrade" in caught.value.message


def test_downgraded_database_needs_migration(backend: Backend):
    upgrade(backend.url)
    downgrade(backend.url, "base")
    with pytest.raises(MigrationNeeded):
        Catalog(backend.url)


def test_missing_sqlite_file_is_a_catalog_error_and_is_not_created(tmp_path: Path):
    path = tmp_path / "nowhere.sqlite"
    with pytest.raises(CatalogError) as caught:
        Catalog(sqlite_url(path))
    assert "preserve init" in caught.value.message
    assert not path.exists()
    with pytest.raises(CatalogError):
        current_revision(sqlite_url(path))


def test_upgrade_into_missing_directory_is_a_catalog_error(tmp_path: Path):
    with pytest.raises(CatalogError):
        upgrade(sqlite_url(tmp_path / "no" / "such" / "catalog.sqlite"))


def test_unreachable_server_is_a_catalog_error():
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    with pytest.raises(CatalogError) as caught:
        Catalog(url)
    assert type(caught.value) is CatalogError
    assert "cannot use the catalog" in caught.value.message
    assert "secret" not in caught.value.message


def test_bad_url_is_a_catalog_error():
    with pytest.raises(CatalogError):
        Catalog("not a url")
    with pytest.raises(CatalogError):
        Catalog("mysql://localhost/x")


def test_sqlite_url_keeps_any_file_name(tmp_path: Path):
    path = tmp_path / "каталог ?#%.sqlite"
    upgrade(sqlite_url(path))
    assert path.is_file()
    assert current_revision(sqlite_url(path)) == HEAD_REVISION


@pytest.mark.postgres
def test_postgres_version_table_lives_in_the_test_schema(postgres_url: str):
    import psycopg

    from .helpers import libpq_url

    upgrade(postgres_url)
    schema = postgres_url.rsplit("%3D", 1)[1]
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        rows = connection.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = "
            "'alembic_version'"
        ).fetchall()
    assert (schema,) in rows


def test_sqlite_catalog_runs_in_wal_mode(tmp_path: Path):
    import sqlite3

    path = tmp_path / "catalog.sqlite"
    upgrade(sqlite_url(path))
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def test_0011_folds_the_titles_already_stored(backend: Backend):
    """Packages written before 0011 get their folded title from the migration, and the
    search finds them by any spelling of the okina and in any case."""
    from sqlalchemy import text

    from preserve.catalog.engine import make_engine
    upgrade(backend.url, "0010_accounts")
    engine = make_engine(backend.url)
    with engine.begin() as connection:
        for n, title in enumerate(["Oʻzbekiston tarixi", "ҚОЛЖАЗМАЛАР", None]):
            connection.execute(text(
                "INSERT INTO packages (id, title, created, payload_fingerprint, state) VALUES "
                "(:id, :title, :created, 'x', 'active')"),
                {"id": f"old-{n}", "title": title, "created": "2026-01-01 00:00:00"})
    engine.dispose()
    upgrade(backend.url)
    with Catalog(backend.url) as catalog:
        def found(text_: str) -> list[str]:
            return [p.package_id for p in catalog.package_page(text=text_).items]
        assert found("O'ZBEKISTON") == ["old-0"]
        assert found("o‘zbekiston tar") == ["old-0"]
        assert found("қолжазма") == ["old-1"]
        assert found("old-2") == ["old-2"]
