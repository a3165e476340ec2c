"""Fixtures for the E-ARK export tests: a multilingual export source built from plain values,
the official XSDs, and eark-validator run offline in its own virtualenv.

eark-validator 1.1.3 pins lxml==5.1.0 while preserve needs lxml>=5.2, so it cannot live in
.venv; `make test` builds it in .venv/eark-validator (PRESERVE_EARK_VALIDATOR names another
interpreter). Its four CSIP vocabularies are served from ../shared/schemas/csip-vocabularies
by run_eark_validator.py; no test touches the network. Without the XSDs or the validator the
tests skip, and CI fails on any skip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from preserve.export.source import ExportFile, ExportSource, organization_agent
from preserve.metadata import DcValue, FileFormat, PremisEvent, SchemaSet
from preserve.model import Agent, AgentType, software_agent
from preserve.storage.local import LocalLocation
from preserve.storage.location import StoredContent
from tests.cli.conftest import cli, repo  # noqa: F401  (the CLI fixtures, shared)

ROOT = Path(__file__).resolve().parents[2]
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"
RUNNER = Path(__file__).with_name("run_eark_validator.py")
DEFAULT_VALIDATOR = ROOT / ".venv" / "eark-validator" / "bin" / "python"

INGESTED = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
EXPORTED = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ORGANIZATION = "Ўзбекистон Миллий кутубхонаси"

#: Names in Cyrillic, Arabic script and Uzbek Latin (with its ʻ apostrophe), a space, a
#: percent sign, a decomposed (NFD) é, a newline, '#' and '?': they must arrive byte for byte.
PAYLOAD: dict[str, bytes] = {
    "data/Қўлёзмалар/001 варақ.tif": b"II*\x00" + bytes(range(256)) * 8,
    "data/نسخه‌ها/دیوان نوایی.pdf": b"%PDF-1.7\n" + "نوایی".encode() * 50,
    "data/Oʻzbek tili/sahifa 100%.txt": "Alisher Navoiy — Xamsa\n".encode(),
    "data/Cafe\u0301/notes.txt": b"decomposed e-acute\n",
    "data/line\nbreak #1?.txt": b"a newline, a hash and a question mark in the name\n",
}
TITLES = (
    DcValue("title", "Алишер Навоий. Хамса", "uz-Cyrl"),
    DcValue("title", "Alisher Navoiy. Xamsa", "uz-Latn"),
    DcValue("title", "علیشیر نوایی. خمسه", "fa-Arab"),
    DcValue("title", "Алишер Навои. Хамса", "ru"),
)


def schemas_dir() -> Path | None:
    configured = os.environ.get("PRESERVE_SCHEMAS")
    if configured:
        return Path(configured)
    return SHARED_SCHEMAS if SHARED_SCHEMAS.is_dir() else None


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    found = schemas_dir()
    if found is None or not (found / "catalog.xml").is_file():
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS (../shared/schemas)")
    return found


@pytest.fixture(scope="session")
def schemas(schema_dir: Path) -> SchemaSet:
    return SchemaSet.from_directory(schema_dir)


def make_source(folder: Path, payload: dict[str, bytes] = PAYLOAD,
                mods: bytes | None = None) -> ExportSource:
    """An ExportSource as `collect` would give it, over files in `folder` (plain values)."""
    files = []
    stored = LocalLocation("test", folder)
    for index, (path, data) in enumerate(sorted(payload.items())):
        content = folder / f"content-{index}"
        content.write_bytes(data)
        mime = "text/plain" if path.endswith(".txt") else ""
        files.append(ExportFile(path=path, size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(),
                                sha512=hashlib.sha512(data).hexdigest(),
                                content=StoredContent(stored, content.name),
                                format=FileFormat("x-fmt/111", "Plain Text File", mime=mime)
                                if mime else None))
    software = software_agent()
    archive = organization_agent(ORGANIZATION)
    person = Agent("Гулноза Каримова", "Гулноза Каримова", AgentType.PERSON)
    paths = tuple(sorted(payload))

    def event(kind: str, when: dt.datetime, agent: Agent = software, **extra) -> PremisEvent:
        return PremisEvent(identifier=str(uuid.uuid5(uuid.NAMESPACE_URL, kind + when.isoformat())),
                           type=kind, time=when, outcome="success", agent=agent,
                           recorded_by=archive, **extra)

    events = (
        event("validation", INGESTED, version=1),
        event("message digest calculation", INGESTED, version=1, object_paths=paths),
        event("ingestion", INGESTED + dt.timedelta(seconds=2), person, version=1,
              detail="qabul qilindi / принято"),
        event("fixity check", INGESTED + dt.timedelta(days=30), object_paths=paths),
        PremisEvent(identifier="NLK-2019-0042", identifier_type="local", type="capture",
                    time=dt.datetime(2019, 5, 2, tzinfo=dt.UTC), outcome="success",
                    agent=Agent("Old Archive", "Old Archive", AgentType.ORGANIZATION),
                    recorded_by=organization_agent("Қозоғистон архиви")),
        event("transfer", EXPORTED, detail="exported as E-ARK SIP"),
    )
    return ExportSource(
        package_id="uz-nl-ms-0001", version=2, created=EXPORTED, title=TITLES[1].value,
        external_ids=("NLU/RM/1234",), files=tuple(files), events=events,
        dc_values=TITLES + (DcValue("creator", "Алишер Навоий", "uz-Cyrl"),
                            DcValue("type", "Text"), DcValue("language", "chg")),
        mods_xml=mods, bag_info=(("Source-Organization", ORGANIZATION),),
        organization=ORGANIZATION)


@pytest.fixture
def source(tmp_path: Path) -> ExportSource:
    folder = tmp_path / "storage"
    folder.mkdir()
    return make_source(folder)


def _validator_python() -> Path | None:
    configured = os.environ.get("PRESERVE_EARK_VALIDATOR")
    if configured:
        return Path(configured)
    return DEFAULT_VALIDATOR if DEFAULT_VALIDATOR.is_file() else None


@pytest.fixture(scope="session")
def eark_validator(schema_dir: Path) -> Callable[..., dict]:
    """Run eark-validator (offline) on package directories; its JSON reports."""
    python = _validator_python()
    if python is None:
        pytest.skip("eark-validator not installed: `make .venv/eark-validator/.installed`")
    vocabularies = schema_dir / "csip-vocabularies"

    def run(*packages: Path) -> dict:
        done = subprocess.run([str(python), str(RUNNER), str(vocabularies),
                               *map(str, packages)], capture_output=True, timeout=120,
                              env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
                              check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return json.loads(done.stdout)

    return run


def errors_of(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["severity"].lower() == "error"]
