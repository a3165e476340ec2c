"""Fixtures for the metadata tests: the official XSDs beside the checkout, small METS inputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from preserve.metadata import MetsFile, SchemaSet

#: Names in the scripts our depositors use (Uzbek Latin with ʻ, Uzbek Cyrillic, Kazakh,
#: Russian, Persian, Arabic) and awkward characters (space, %, #, newline, nesting).
MULTILINGUAL_PATHS = (
    "data/Qoʻlyozma/varaq 001.tif",
    "data/Қўлёзма/варақ 1.tif",
    "data/Қолжазбалар/бет-1.txt",
    "data/Рукописи/Летопись.txt",
    "data/نسخه‌های خطی/برگ ۱.txt",
    "data/مخطوطات/كتاب.txt",
    "data/a b/100% #1.txt",
    "data/line\nbreak.txt",
    "data/deep/er/and/deeper/leaf.bin",
    "data/top.txt",
)

MULTILINGUAL_BAG_INFO = (
    ("Source-Organization", "Alisher Navoiy nomidagi Oʻzbekiston Milliy kutubxonasi"),
    ("External-Identifier", "УзМК-қўлёзма-17"),
    ("External-Identifier", "ark:/12345/қолжазба"),
    ("Title", "Qoʻlyozmalar to‘plami — Қўлёзмалар тўплами"),
    ("Title", "Летопись / دیوان حافظ / كتاب الشفاء"),
    ("External-Description", "  Kazakh: Қара сөздер.\n  Persian: نسخه‌های خطی  "),
    ("Bagging-Date", "2026-11-25"),
    ("Contact-Name", "not mapped to DC"),
)

CREATED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


def mets_file(path: str, content: bytes | None = None) -> MetsFile:
    data = path.encode() if content is None else content
    return MetsFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    sha512=hashlib.sha512(data).hexdigest())


def official_schema_dir() -> Path | None:
    configured = os.environ.get("PRESERVE_SCHEMAS")
    candidate = (Path(configured) if configured
                 else Path(__file__).resolve().parents[3] / ".." / "shared" / "schemas")
    return candidate.resolve() if (candidate / "catalog.xml").is_file() else None


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    found = official_schema_dir()
    if found is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS to a folder holding them "
                    "and catalog.xml (on dev/CI machines: ../shared/schemas beside the checkout)")
    return found


@pytest.fixture(scope="session")
def schemas(schema_dir: Path) -> SchemaSet:
    return SchemaSet.from_directory(schema_dir)
