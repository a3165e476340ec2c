"""`preserve schemas fetch`: download the official XSDs into a user cache (DESIGN.md, "Metadata").

The official schemas are not part of preserve (their licences differ and they change on
their own schedule). This module downloads the ones METS validation needs, listed with their
pinned sha256 digests in `schemas/sources.json` at the top of the source tree, into a cache
directory, and writes an OASIS XML catalog (OASIS XML Catalogs 1.1, sections 6.5.3 and 6.5.4:
`system` and `uri` entries) mapping every official URL to the local copy, so that
`SchemaSet.from_directory(cache_dir)` works offline afterwards.

A download whose digest differs from the pin is refused: every file is first downloaded to a
temporary file in the cache directory and checked, and only when all of them match are they
moved into place (`os.replace`, atomic on one file system). A failed fetch leaves the cache
as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import quoteattr

from preserve.errors import ConfigurationError
from preserve.metadata.schemas import CATALOG_FILENAME

log = logging.getLogger(__name__)

#: The list of official schemas, kept beside preserve's own schema files.
# schemas/sources.json at the top of the source tree, shipped inside the package as
# preserve/_schemas (a symlink in a checkout, real files in an installed wheel).
SOURCES_PATH = Path(__file__).resolve().parents[1] / "_schemas" / "sources.json"
TIMEOUT_SECONDS = 60.0
#: The largest official XSD needed is ~160 KB; anything far bigger is not a schema.
MAX_SIZE = 4 * 2**20
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class SchemaSource:
    """One official XSD: where it is published, its local name, its pinned digest."""

    file: str
    url: str
    sha256: str
    aliases: tuple[str, ...] = ()

    @property
    def all_urls(self) -> tuple[str, ...]:
        """Every URL the catalog maps to this file: the URL, aliases and their https twins."""
        urls: list[str] = []
        for url in (self.url, *self.aliases):
            for variant in (url, _https(url)):
                if variant not in urls:
                    urls.append(variant)
        return tuple(urls)


@dataclass(frozen=True, slots=True)
class FetchedFile:
    file: str
    url: str  # where it was downloaded from (the mirror's URL when one was given)
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class FetchReport:
    cache_dir: Path
    catalog: Path
    files: tuple[FetchedFile, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"cache_dir": str(self.cache_dir), "catalog": str(self.catalog),
                "files": [{"file": f.file, "url": f.url, "sha256": f.sha256, "size": f.size}
                          for f in self.files]}


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/preserve/schemas`, else `~/.cache/preserve/schemas`.

    The caller (the CLI) passes the environment in: library code does not read it.
    """
    xdg = environ.get("XDG_CACHE_HOME", "")
    # XDG Base Directory spec: a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else (
        Path(environ["HOME"]) if environ.get("HOME") else Path.home()) / ".cache"
    return base / "preserve" / "schemas"


def load_sources(path: Path = SOURCES_PATH) -> tuple[SchemaSource, ...]:
    """The schema list of `path` (default `schemas/sources.json`)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return tuple(SchemaSource(file=entry["file"], url=entry["url"],
                                  sha256=entry["sha256"].lower(),
                                  aliases=tuple(entry.get("urls", ())))
                     for entry in document["schemas"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(detail=f"cannot read the schema list {path}: {exc}") from exc


def fetch_schemas(cache_dir: Path, *, base_url: str | None = None,
                  opener: Callable[..., Any] = urllib.request.urlopen,
                  sources: tuple[SchemaSource, ...] | None = None) -> FetchReport:
    """Download the official XSDs into `cache_dir`, check their pins, write catalog.xml.

    `base_url` (e.g. `http://mirror.example:8080`) replaces the scheme and host of every
    official URL: a mirror serving the same paths. Raises ConfigurationError on a network
    error, an oversized answer or a digest that differs from the pin; then nothing in
    `cache_dir` has changed.
    """
    sources = load_sources() if sources is None else sources
    cache_dir = Path(cache_dir).expanduser().absolute()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(detail=f"cannot create the schema cache {cache_dir}: {exc}") from exc

    staged: list[tuple[Path, Path]] = []  # (temporary file, final place)
    fetched: list[FetchedFile] = []
    try:
        for source in sources:
            url = _mirrored(source.url, base_url)
            temporary, digest, size = _download(url, cache_dir, opener)
            staged.append((temporary, cache_dir / source.file))
            if digest != source.sha256:
                raise ConfigurationError(
                    detail=f"{source.file} downloaded from {url} has sha256 {digest}, but "
                    f"{source.sha256} is expected (schemas/sources.json); it was not "
                    "installed, and the schema cache is unchanged")
            fetched.append(FetchedFile(source.file, url, digest, size))
        catalog_tmp = _temporary(cache_dir)
        staged.append((catalog_tmp, cache_dir / CATALOG_FILENAME))
        catalog_tmp.write_text(catalog_xml(sources), encoding="utf-8")
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    # All checked: move into place. The catalog goes last, so a reader never sees a
    # catalog pointing at files that are not there yet.
    for temporary, final in staged:
        os.replace(temporary, final)
    log.info("fetched %d schemas into %s", len(fetched), cache_dir)
    return FetchReport(cache_dir, cache_dir / CATALOG_FILENAME, tuple(fetched))


def catalog_xml(sources: tuple[SchemaSource, ...]) -> str:
    """An OASIS XML catalog mapping every URL of `sources` to its file (relative `uri`s)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- Written by `preserve schemas fetch`; relative uri values resolve against "
             "this file. -->",
             '<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog" prefer="system">']
    for source in sources:
        target = quoteattr(source.file)
        for url in source.all_urls:
            # Both kinds: libxml2 tries the system lookup first, then the URI lookup.
            lines.append(f"  <system systemId={quoteattr(url)} uri={target}/>")
            lines.append(f"  <uri name={quoteattr(url)} uri={target}/>")
    lines.append("</catalog>")
    return "\n".join(lines) + "\n"


# --- helpers ------------------------------------------------------------------------------


def _https(url: str) -> str:
    return "https://" + url[len("http://"):] if url.startswith("http://") else url


def _mirrored(url: str, base_url: str | None) -> str:
    if not base_url:
        return url
    base = urlsplit(base_url.rstrip("/"))
    official = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, base.path + official.path, official.query, ""))


def _temporary(directory: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=directory, prefix=".fetch-", suffix=".tmp")
    os.close(handle)
    return Path(name)


def _download(url: str, directory: Path, opener: Callable[..., Any]) -> tuple[Path, str, int]:
    """Download `url` into a temporary file in `directory`: (file, sha256, size)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigurationError(detail=f"cannot fetch {url}: only http and https are used")
    temporary = _temporary(directory)
    digest = hashlib.sha256()
    size = 0
    try:
        with opener(url, timeout=TIMEOUT_SECONDS) as response, temporary.open("wb") as out:
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > MAX_SIZE:
                    raise ConfigurationError(detail=f"{url} is larger than {MAX_SIZE} bytes; "
                                             "that is not one of the official schemas")
                digest.update(chunk)
                out.write(chunk)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigurationError(detail=f"cannot download {url}: {exc}") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary, digest.hexdigest(), size
