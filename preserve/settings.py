"""Settings: one table of every setting with its default and help line.

Layering (DESIGN.md, "Repository home"; STYLE.md, "Output and logging"): defaults <
`preserve.toml` in the repository home < `PRESERVE_*` environment variables < command-line flags.
The CLI loads them (`load`) and hands them to the service layer (preserve/service), which the
web app is built from; library functions below take explicit arguments. Outside cli/ since
issue 15, so that the service does not import the CLI.
`docs/settings.md` lists every setting, and a test checks that it does.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve import units
from preserve.errors import ConfigurationError
from preserve.storage.configured import PRIMARY, LocationConfig, parse_table

SETTINGS_FILE = "preserve.toml"
LOCATIONS_SECTION = "locations"


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be a whole number of at least 1")
    return number


def _positive_float(value: Any) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be a number above 0")
    return number


def _rate(value: Any) -> str:
    """A rate as written (`200MB/s`, `50MiB/s`, a bare number of MB/s), checked; "" is no
    cap. `units.rate` turns it into bytes per second where it is used."""
    text = str(value).strip()
    if not text:
        return ""
    try:
        units.rate(text, "audit.max_rate")
    except units.QuantityError as exc:
        raise ValueError(exc.message) from None
    return text


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _optional_path(value: Any) -> str:
    return _text(value)


def organization_profiles(value: Any) -> dict[str, str]:
    """`Source-Organization=profile identifier` pairs, one a line (or `;`-separated), or a
    TOML table of the same, as a dict."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ValueError("must map organization names to profile identifiers")
        return dict(value)
    pairs: dict[str, str] = {}
    for item in str(value).replace(";", "\n").splitlines():
        if not item.strip():
            continue
        organization, sep, identifier = item.partition("=")
        if not sep or not organization.strip() or not identifier.strip():
            raise ValueError("must be ORGANIZATION=PROFILE-IDENTIFIER pairs")
        pairs[organization.strip()] = identifier.strip()
    return pairs


def _organization_profiles(value: Any) -> str:
    """Checked, kept as text (so preserve.toml round-trips); see `organization_profiles`."""
    return "; ".join(f"{k}={v}" for k, v in organization_profiles(value).items())


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its dotted name (as in preserve.toml), environment variable, default, help."""

    name: str
    env: str
    default: Any
    parse: Callable[[Any], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("repository.name", "PRESERVE_REPOSITORY_NAME", "",
            _text, "This archive's name (e.g. `National Library of Uzbekistan`): the "
            "`Source-Organization` of its exports and the organisation its PREMIS events are "
            "credited to when another archive imports them. Empty: `preserve repository`."),
    Setting("catalog.url", "PRESERVE_CATALOG_URL", "",
            _text, "SQLAlchemy URL of the catalog. Empty: `catalog.sqlite` in the repository home. "
            "For PostgreSQL: `postgresql+psycopg://user@host/db`."),
    Setting("catalog.busy_timeout", "PRESERVE_CATALOG_BUSY_TIMEOUT", 30.0,
            _positive_float, "Seconds a command waits for a SQLite catalog another process is "
            "writing (one writer at a time) before it stops with a catalog error (exit 14); "
            "nothing half-written is left. Ignored for PostgreSQL."),
    Setting("schemas.dir", "PRESERVE_SCHEMAS", "",
            _optional_path, "Directory holding the official METS/PREMIS XSDs and an OASIS "
            "`catalog.xml`; every METS written is validated against them. Empty: not validated "
            "(a warning finding, META-W004, and the validation event says so)."),
    Setting("schemas.required", "PRESERVE_SCHEMAS_REQUIRED", False,
            _bool, "true: refuse to ingest (configuration error, exit 10) when no schema "
            "directory is configured, instead of storing a METS that was not schema-validated."),
    Setting("profiles.dir", "PRESERVE_PROFILES_DIR", "",
            _optional_path, "Directory of BagIt profiles (`*.json`), found by their "
            "BagIt-Profile-Identifier: a bag naming one in bag-info.txt is checked against it "
            "(docs/profiles.md). Profiles are never fetched over the network. Empty: none."),
    Setting("profiles.by_organization", "PRESERVE_PROFILES_BY_ORGANIZATION", "",
            _organization_profiles, "`Source-Organization=profile identifier` pairs (one a "
            "line or `;`-separated, or a TOML table): a bag from that depositor must meet that "
            "profile from profiles.dir, whatever profile it names."),
    Setting("ingest.workers", "PRESERVE_WORKERS", 0,
            lambda v: 0 if int(v) == 0 else _positive_int(v),
            "Threads that read and hash files in parallel. 0: the number of CPUs."),
    Setting("audit.interval_days", "PRESERVE_AUDIT_INTERVAL_DAYS", 90,
            _positive_float, "A copy is due for a fixity audit when it was never checked or "
            "last checked longer ago than this many days."),
    Setting("audit.max_rate", "PRESERVE_AUDIT_MAX_RATE", "", _rate,
            "The read rate every queued audit of the nightly task shares, per location, across "
            "all workers (200MB/s, 50MiB/s; a bare number is MB/s). Empty: no cap."),
    Setting("audit.workers", "PRESERVE_AUDIT_WORKERS", 0,
            lambda v: 0 if int(v) == 0 else _positive_int(v),
            "Threads that re-read stored files in an audit. 0: the number of CPUs."),
    Setting("replication.copies", "PRESERVE_REPLICATION_COPIES", 1,
            _positive_int, "How many verified copies of every package the archive keeps, the "
            "home's own `local` root included; `preserve replicate` (and every ingest, unless "
            "--no-replicate) copies to the `[locations.<name>]` tables in their order until "
            "each package has this many. 1: only the local root."),
    Setting("limits.max_members", "PRESERVE_MAX_MEMBERS", 1_000_000,
            _positive_int, "Most members a zip/tar deposit may hold."),
    Setting("limits.max_total_size", "PRESERVE_MAX_TOTAL_SIZE", 4 * 2**40,
            _positive_int, "Most bytes a zip/tar deposit may unpack to."),
    Setting("limits.max_ratio", "PRESERVE_MAX_RATIO", 1000.0,
            _positive_float, "Highest compression ratio (unpacked/packed) a zip/tar member may have."),
    Setting("web.max_upload", "PRESERVE_WEB_MAX_UPLOAD", 20 * 2**30,
            _positive_int, "Most bytes of one deposit uploaded through the web app or API "
            "(`preserve serve`); a larger upload is refused as it arrives and nothing is kept."),
    Setting("web.secure_cookies", "PRESERVE_WEB_SECURE_COOKIES", True,
            _bool, "Mark the web app's session cookie `Secure` (sent over HTTPS only; browsers "
            "also send it to http://127.0.0.1 and http://localhost). Turn off only for plain "
            "HTTP on a trusted network."),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def load(repo: Path, environ: Mapping[str, str] | None = None,
         overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolve every setting: defaults < preserve.toml < environment < overrides (flags)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    sources: list[tuple[str, Mapping[str, Any]]] = [(str(repo / SETTINGS_FILE), _read_toml(repo))]
    sources.append(("environment", {s.name: environ[s.env] for s in SETTINGS if s.env in environ}))
    sources.append(("command line", {k: v for k, v in (overrides or {}).items() if v is not None}))
    for origin, given in sources:
        for name, raw in given.items():
            setting = BY_NAME.get(name)
            if setting is None:
                raise ConfigurationError(detail=f"unknown setting {name!r} in {origin}; known settings: "
                                         + ", ".join(BY_NAME))
            try:
                values[name] = setting.parse(raw)
            except (ValueError, TypeError) as exc:
                where = setting.env if origin == "environment" else origin
                raise ConfigurationError(detail=f"setting {name} from {where}: {raw!r} {exc}") from None
    return values


def _toml_document(repo: Path) -> dict[str, Any]:
    path = repo / SETTINGS_FILE
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(detail=f"{path} is not valid TOML ({exc}); fix or remove it") from None


def _read_toml(repo: Path) -> dict[str, Any]:
    path = repo / SETTINGS_FILE
    data = _toml_document(repo)
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if section == LOCATIONS_SECTION:  # one table per location: location_configs reads them
            continue
        if not isinstance(table, dict):
            raise ConfigurationError(detail=f"{path}: top-level key {section!r} must be a [section]")
        for key, value in table.items():
            flat[f"{section}.{key}"] = value
    return flat


def location_configs(repo: Path) -> list[LocationConfig]:
    """Every storage location, the home's own `local` root first, then the
    `[locations.<name>]` tables of preserve.toml in their order (docs/storage-locations.md)."""
    path = repo / SETTINGS_FILE
    tables = _toml_document(repo).get(LOCATIONS_SECTION, {})
    if not isinstance(tables, dict):
        raise ConfigurationError(detail=f"{path}: [{LOCATIONS_SECTION}] must hold one table per "
                                 "location, e.g. [locations.vault]")
    configs = [LocationConfig(PRIMARY, "local")]
    for name, table in tables.items():
        config = parse_table(name, table, str(path))
        if name != PRIMARY:
            configs.append(config)
    return configs


def add_location(repo: Path, config: LocationConfig) -> None:
    """Append a `[locations.<name>]` table to preserve.toml, keeping everything else in the
    file as it is (comments included); written to a temporary file and renamed."""
    path = repo / SETTINGS_FILE
    if any(c.name == config.name for c in location_configs(repo)):
        raise ConfigurationError(detail=f"location {config.name!r} is configured already in "
                                 f"{path}; edit or remove its table there first")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    lines = [f"[{LOCATIONS_SECTION}.{config.name}]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in config.as_table().items()]
    text += "\n" + "\n".join(lines) + "\n"
    tomllib.loads(text)  # never write a file the next command cannot read
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_toml(values: Mapping[str, Any]) -> str:
    """The preserve.toml that `init` writes: every setting, commented with its help line."""
    lines = ["# preserve repository settings. Environment variables PRESERVE_* and flags override these.", ""]
    section = None
    for setting in SETTINGS:
        head, key = setting.name.split(".", 1)
        if head != section:
            if section is not None:
                lines.append("")
            lines.append(f"[{head}]")
            section = head
        lines.append(f"# {setting.help} (env {setting.env})")
        lines.append(f"{key} = {_toml_value(values.get(setting.name, setting.default))}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
