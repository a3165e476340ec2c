"""Storage locations as an archive configures them (`[locations.<name>]` in preserve.toml).

```toml
[locations.vault]            # another disk or mount
kind = "local"
path = "/mnt/vault/ocfl"
[locations.tashkent-s3]      # an S3-compatible bucket
kind = "s3"
endpoint = "http://127.0.0.1:18080"
bucket = "preserve"
prefix = "ocfl/"
region = "us-east-1"
```

The location named `local` is always the repository home's own OCFL root (`ocfl/`): ingests
commit there first, and every other location receives copies of what it holds
(docs/storage-locations.md). Credentials are never part of a location's configuration: the
CLI hands them over from the environment (`PRESERVE_LOCATION_<NAME>_ACCESS_KEY` /
`_SECRET_KEY`), else boto3 looks in its own chain (profile, instance role).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.errors import ConfigurationError
from preserve.storage.local import LocalLocation
from preserve.storage.location import Location

PRIMARY = "local"
KINDS = ("local", "s3")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_KEYS = {"local": {"kind", "path"}, "s3": {"kind", "endpoint", "bucket", "prefix", "region"}}


@dataclass(frozen=True, slots=True)
class LocationConfig:
    """One configured location. `path` for kind local; the rest for kind s3."""

    name: str
    kind: str
    path: str = ""
    endpoint: str = ""
    bucket: str = ""
    prefix: str = ""
    region: str = ""

    def as_table(self) -> dict[str, str]:
        """The `[locations.<name>]` table that describes it (empty values left out)."""
        keys = ("kind", "path") if self.kind == "local" else (
            "kind", "endpoint", "bucket", "prefix", "region")
        return {k: getattr(self, k) for k in keys if getattr(self, k)}


def check_name(name: str) -> str:
    """A location name: lower-case letters, digits, `-` and `_` (it names an environment
    variable and a TOML table); `local` is the home's own root."""
    if not _NAME.match(name):
        raise ConfigurationError(detail=f"location name {name!r}: use lower-case letters, "
                                 "digits, '-' and '_' (at most 63), starting with a letter or digit")
    return name


def parse_table(name: str, table: Any, origin: str) -> LocationConfig:
    """A `[locations.<name>]` table as a `LocationConfig`; ConfigurationError saying what
    to fix otherwise."""
    check_name(name)
    where = f"{origin}: [locations.{name}]"
    if not isinstance(table, dict):
        raise ConfigurationError(detail=f"{where} must be a table")
    kind = table.get("kind")
    if kind not in KINDS:
        raise ConfigurationError(detail=f"{where}: kind must be one of {', '.join(KINDS)}, "
                                 f"not {kind!r}")
    unknown = sorted(set(table) - _KEYS[kind])
    if unknown:
        raise ConfigurationError(detail=f"{where}: unknown key {unknown[0]!r} for kind {kind} "
                                 f"(known: {', '.join(sorted(_KEYS[kind]))}); credentials go in "
                                 "the environment, never in preserve.toml")
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigurationError(detail=f"{where}: {key} must be a string")
    if name == PRIMARY:
        if set(table) - {"kind"} or kind != "local":
            raise ConfigurationError(detail=f"{where}: `local` is the repository's own root "
                                     "(ocfl/ in the home); give another location another name")
        return LocationConfig(name, kind)
    if kind == "local" and not table.get("path"):
        raise ConfigurationError(detail=f"{where}: a local location needs path = \"DIR\"")
    if kind == "s3" and not table.get("bucket"):
        raise ConfigurationError(detail=f"{where}: an s3 location needs bucket = \"NAME\"")
    return LocationConfig(name=name, kind=kind, path=table.get("path", ""),
                          endpoint=table.get("endpoint", ""), bucket=table.get("bucket", ""),
                          prefix=table.get("prefix", ""), region=table.get("region", ""))


def open_location(config: LocationConfig, *, home_root: Path,
                  credentials: tuple[str | None, str | None] = (None, None)) -> Location:
    """The `Location` a configuration describes. boto3 is loaded only for an S3 location."""
    if config.name == PRIMARY:
        return LocalLocation(PRIMARY, home_root)
    if config.kind == "local":
        return LocalLocation(config.name, Path(config.path))
    from preserve.storage.s3 import S3Location  # boto3: only when an S3 location is used

    access_key, secret_key = credentials
    return S3Location(config.name, endpoint=config.endpoint or None, bucket=config.bucket,
                      prefix=config.prefix, region=config.region or None,
                      access_key=access_key, secret_key=secret_key)
