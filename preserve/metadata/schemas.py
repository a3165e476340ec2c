"""Offline XSD validation of METS through an OASIS XML catalog (DESIGN.md, "Metadata").

The official XSDs are not part of preserve. A schema directory (setting `schemas.dir`, env
`PRESERVE_SCHEMAS`; on development machines `../shared/schemas/`) holds them next to an OASIS
XML catalog (`catalog.xml`, OASIS XML Catalogs 1.1, section 6) that maps the remote URLs used
in `schemaLocation`s to the local files. This module reads that catalog itself and answers
libxml2's requests through an `lxml.etree.Resolver`, on parsers with `no_network=True` and
`resolve_entities=False`: nothing is fetched from the network, and no process-wide state
(`XML_CATALOG_FILES`, libxml2's default catalog) is touched.

The schema a `SchemaSet` compiles (once) is a small driver importing METS 1.12.1 plus, when
the catalog offers them, Dublin Core and PREMIS 3.0: METS wraps embedded metadata in lax
wildcards, so with those loaded the DC (and PREMIS) inside `mdWrap/xmlData` is checked too.
A lax wildcard validates a declared element fully but silently skips an undeclared one, so
`validate_mets` also requires every element directly inside `xmlData` whose namespace is
loaded to be a global element of that schema (a misspelt `premis:objekt` is an error, not a
skip). Embedded metadata in a namespace that is not loaded is skipped, and its `xsi:type`
attributes are ignored (libxml2 would otherwise fail to resolve them).
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree

from preserve.errors import ConfigurationError
from preserve.metadata import namespaces as ns

log = logging.getLogger(__name__)

CATALOG_FILENAME = "catalog.xml"
_WHAT_TO_DO = (
    "put the official XSDs (METS 1.12.1, xlink, DC, PREMIS 3.0) and an OASIS catalog.xml "
    "mapping their URLs to the files in one folder, and point the setting schemas.dir or "
    "PRESERVE_SCHEMAS at it"
)


@dataclass(slots=True)
class Catalog:
    """The entries of an OASIS XML catalog that map URLs to local files.

    Supported: `system`, `uri`, `rewriteSystem`, `rewriteURI`, `group`, `xml:base` and
    `nextCatalog` (followed once each). `public` and `delegate*` entries are ignored: schema
    imports are located by URL, never by public identifier.
    """

    exact: dict[str, Path] = field(default_factory=dict)
    rewrites: list[tuple[str, str]] = field(default_factory=list)  # (prefix, replacement URL)
    files: tuple[Path, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Catalog:
        catalog = cls()
        seen: list[Path] = []
        catalog._read(path.resolve(), seen)
        catalog.files = tuple(seen)
        # Longest prefix first: OASIS section 6.5.5 picks the longest matching start string.
        catalog.rewrites.sort(key=lambda item: len(item[0]), reverse=True)
        return catalog

    def lookup(self, url: str) -> Path | None:
        """The local file the catalog maps `url` to, or None."""
        if url in self.exact:
            return self.exact[url]
        for prefix, replacement in self.rewrites:
            if url.startswith(prefix):
                return _local_path(replacement + url[len(prefix):])
        return None

    def _read(self, path: Path, seen: list[Path]) -> None:
        if path in seen:
            return
        seen.append(path)
        try:
            root = etree.parse(str(path), _safe_parser()).getroot()
        except (OSError, etree.XMLSyntaxError) as exc:
            raise ConfigurationError(detail=f"cannot read XML catalog {path}: {exc}") from exc
        self._walk(root, path.as_uri(), seen)

    def _walk(self, element: etree._Element, base: str, seen: list[Path]) -> None:
        for child in element:
            if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{ns.OASIS_CATALOG}}}"):
                continue
            local = etree.QName(child).localname
            child_base = urljoin(base, child.get(ns.qname(ns.XML, "base"), ""))
            if local == "group":
                self._walk(child, child_base, seen)
            elif local in ("system", "uri"):
                name = child.get("systemId" if local == "system" else "name")
                target = child.get("uri")
                if name and target:
                    local_path = _local_path(urljoin(child_base, target))
                    if local_path is not None:
                        self.exact.setdefault(name, local_path)  # first entry wins (OASIS 7.1)
            elif local in ("rewriteSystem", "rewriteURI"):
                start = child.get("systemIdStartString" if local == "rewriteSystem"
                                  else "uriStartString")
                prefix = child.get("rewritePrefix")
                if start and prefix:
                    self.rewrites.append((start, urljoin(child_base, prefix)))
            elif local == "nextCatalog" and child.get("catalog"):
                next_path = _local_path(urljoin(child_base, child.get("catalog", "")))
                if next_path is not None and next_path.is_file():
                    self._read(next_path.resolve(), seen)


class _CatalogResolver(etree.Resolver):
    """Answers libxml2's requests for schema documents from the catalog, never the network."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self._catalog = catalog

    def resolve(self, system_url: str, public_id: str | None, context: Any) -> Any:
        target = self._catalog.lookup(system_url)
        if target is not None:
            return self.resolve_filename(str(target), context)
        if urlsplit(system_url).scheme not in ("", "file"):
            # Not in the catalog: hand libxml2 an empty answer instead of letting it go online.
            log.warning("schema %s is not in the XML catalog; it is not fetched", system_url)
            return self.resolve_string("", context)
        return None  # a local file (e.g. dcterms.xsd importing "dc.xsd"): libxml2 reads it


#: METS documents up to this size are validated in memory (`SchemaSet.validate_mets_file`).
IN_MEMORY_BYTES = 16 * 2**20


class SchemaSet:
    """The compiled METS validation schema of one schema directory (thread-safe)."""

    def __init__(self, directory: Path, catalog: Catalog, loaded: dict[str, Path],
                 schema: etree.XMLSchema) -> None:
        self.directory = directory
        self.catalog = catalog
        #: namespace -> local schema file, for every schema compiled in
        self.loaded = loaded
        self._schema = schema
        self._parser = _safe_parser()
        self._lock = threading.Lock()  # an XMLSchema keeps its error log on the instance
        self._second: Any = None  # xmlschema.XMLSchema10, built on first use (~0.3 s)
        self._premis2: etree.XMLSchema | None | bool = False  # False: not compiled yet
        #: namespace -> names of its global elements, for the strict check of xmlData roots
        self._globals = {namespace: _global_elements(path) for namespace, path in loaded.items()}

    @classmethod
    def from_directory(cls, path: Path) -> SchemaSet:
        """Read `path`/catalog.xml, find METS 1.12.1 there and compile the schema.

        Raises ConfigurationError if the directory, the catalog or the METS schema is
        missing, or the schemas do not compile offline.
        """
        directory = Path(path).expanduser().resolve()
        if not directory.is_dir():
            raise ConfigurationError(detail=f"schema directory {directory} does not exist; "
                                     + _WHAT_TO_DO)
        catalog_path = directory / CATALOG_FILENAME
        catalog = Catalog.load(catalog_path) if catalog_path.is_file() else Catalog()
        if not catalog_path.is_file():
            log.warning("no %s in %s: schema imports cannot be resolved offline",
                        CATALOG_FILENAME, directory)
        mets_path = _find_mets(directory, catalog)
        if mets_path is None:
            looked = ", ".join(ns.METS_SCHEMA_ALIASES)
            names = ", ".join(ns.METS_SCHEMA_FILENAMES)
            raise ConfigurationError(
                detail=f"no METS {ns.METS_VERSION} schema in {directory} (looked for "
                f"{CATALOG_FILENAME} entries for {looked}, and for files named {names}); "
                + _WHAT_TO_DO)
        catalog.exact.setdefault(ns.METS_SCHEMA_URL, mets_path)

        loaded = {ref.namespace: found for ref in ns.VALIDATION_SCHEMAS
                  if (found := catalog.lookup(ref.url)) is not None and found.is_file()}
        schema = _compile(directory, catalog, loaded)
        log.info("compiled METS validation schema from %s (%s)", directory,
                 ", ".join(sorted(loaded)))
        return cls(directory, catalog, loaded, schema)

    def validate_mets(self, document: bytes) -> list[str]:
        """[] if `document` is a valid METS document, else one `line N: message` per error."""
        try:
            tree = etree.fromstring(document, self._parser).getroottree()
        except etree.XMLSyntaxError as exc:
            return [f"line {exc.lineno}: {exc.msg}"]
        root = tree.getroot()
        if root.tag != ns.qname(ns.METS, "mets"):
            return [f"line {root.sourceline}: root element is {root.tag}, not "
                    f"{{{ns.METS}}}mets"]
        if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
            # Entities are never expanded (XXE), and libxml2 cannot schema-validate the
            # unexpanded references; a METS document has no business declaring any.
            return ["line 1: a DOCTYPE is not allowed in a METS document"]
        problems = self._check_embedded(root)
        with self._lock:
            try:
                if self._schema.validate(tree):
                    return problems
            except etree.XMLSchemaValidateError as exc:
                return [f"line {root.sourceline}: the document cannot be validated: {exc}"]
            return [f"line {error.line}: {error.message}"
                    for error in self._schema.error_log] + problems

    def validate_mets_file(self, path: Path) -> list[str]:
        """`validate_mets` for a METS document in a file, in memory that does not grow with it.

        Documents up to `IN_MEMORY_BYTES` are read and checked exactly as `validate_mets`
        does. Larger ones (a package of many thousand files) are validated while they are
        parsed (libxml2 checks the schema on the parser's events) and every element is
        dropped once it is complete; the embedded-metadata rule is checked as each `xmlData`
        child starts. The one difference: embedded metadata of a namespace with no schema
        loaded keeps its `xsi:type` attributes (they cannot be dropped before validation when
        streaming), which preserve's own METS never embeds.
        """
        path = Path(path)
        if path.stat().st_size <= IN_MEMORY_BYTES:
            return self.validate_mets(path.read_bytes())
        xml_data = ns.qname(ns.METS, "xmlData")
        problems: list[str] = []
        with self._lock:
            try:
                events = etree.iterparse(str(path), events=("start", "end"), schema=self._schema,
                                         no_network=True, resolve_entities=False,
                                         load_dtd=False, huge_tree=True)
                for event, element in events:
                    if event == "start":
                        parent = element.getparent()
                        if parent is None and element.tag != ns.qname(ns.METS, "mets"):
                            return [f"line {element.sourceline}: root element is "
                                    f"{element.tag}, not {{{ns.METS}}}mets"]
                        if parent is not None and parent.tag == xml_data:
                            problems += self._embedded_root_problem(element)
                        continue
                    element.clear(keep_tail=True)
                    while element.getprevious() is not None:  # finished siblings
                        del element.getparent()[0]
            except etree.XMLSyntaxError as exc:
                problems.append(f"line {exc.lineno}: {exc.msg}")
        return problems

    def _embedded_root_problem(self, child: etree._Element) -> list[str]:
        qname = etree.QName(child)
        known = self._globals.get(qname.namespace or "")
        if known is not None and qname.localname not in known:
            return [f"line {child.sourceline}: Element '{child.tag}': not a global element of "
                    f"the {qname.namespace} schema, so it cannot be embedded metadata"]
        return []

    def _check_embedded(self, root: etree._Element) -> list[str]:
        """Undeclared roots of embedded metadata are errors; unloaded namespaces are skipped."""
        problems: list[str] = []
        xsi_type = ns.qname(ns.XSI, "type")
        for data in root.iter(ns.qname(ns.METS, "xmlData")):
            for child in data:
                if not isinstance(child.tag, str):
                    continue
                qname = etree.QName(child)
                known = self._globals.get(qname.namespace or "")
                if known is None:
                    for element in child.iter():
                        element.attrib.pop(xsi_type, None)  # not validated: see module doc
                else:
                    problems += self._embedded_root_problem(child)
        return problems

    def validate_premis2(self, document: bytes) -> list[str] | None:
        """Problems of the PREMIS 2 in `document` against the PREMIS 2.2 schema: each
        outermost PREMIS 2 element (a `premis`, `object`, `event`, `agent` or `rights`, as METS
        embeds them) is validated on its own. None if the directory has no PREMIS 2.2 schema.
        """
        with self._lock:
            if self._premis2 is False:
                self._premis2 = self._compile_premis2()
            schema = self._premis2
        if not isinstance(schema, etree.XMLSchema):
            return None
        try:
            root = etree.fromstring(document, self._parser)
        except etree.XMLSyntaxError as exc:
            return [f"line {exc.lineno}: {exc.msg}"]
        problems: list[str] = []
        prefix = f"{{{ns.PREMIS2}}}"
        for element in root.iter(f"{prefix}*"):
            parent = element.getparent()
            if parent is not None and isinstance(parent.tag, str) and parent.tag.startswith(prefix):
                continue
            with self._lock:
                if not schema.validate(etree.ElementTree(copy.deepcopy(element))):
                    problems += [f"line {element.sourceline}: {error.message}"
                                 for error in schema.error_log]
        return problems

    def _compile_premis2(self) -> etree.XMLSchema | None:
        path = self.catalog.lookup(ns.PREMIS2_SCHEMA_URL)
        if path is None or not path.is_file():
            return None
        parser = _safe_parser()
        parser.resolvers.add(_CatalogResolver(self.catalog))
        try:
            return etree.XMLSchema(etree.parse(str(path), parser))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            log.warning("the PREMIS 2.2 schema %s does not compile: %s", path, exc)
            return None

    def validate_mets_independently(self, document: bytes) -> list[str]:
        """Like `validate_mets`, but with xmlschema (a second, pure-Python validator).

        Meant as an oracle for tests and `preserve check`: two implementations agreeing
        that a document is valid is stronger evidence than one. Same catalog, same files;
        xmlschema is told `allow="local"`, so it cannot reach the network either.
        """
        try:
            root = etree.fromstring(document, self._parser)
        except etree.XMLSyntaxError as exc:
            return [f"line {exc.lineno}: {exc.msg}"]
        with self._lock:
            if self._second is None:
                self._second = self._build_second()
            errors = list(self._second.iter_errors(root))
        return [f"line {getattr(e.elem, 'sourceline', None) or '?'}: {e.reason}"
                for e in errors]

    def _build_second(self) -> Any:
        import xmlschema  # only here: most runs never need the second validator

        def local(url: str) -> str:
            target = self.catalog.lookup(url)
            return target.as_uri() if target is not None else url

        try:
            schema = xmlschema.XMLSchema10(str(self.loaded[ns.METS]), uri_mapper=local,
                                           allow="local", build=False)
            for namespace, path in self.loaded.items():
                if namespace != ns.METS:
                    schema.import_schema(namespace, str(path))
            schema.build()
        except (xmlschema.XMLSchemaException, OSError) as exc:
            raise ConfigurationError(detail=f"xmlschema cannot load the schemas in "
                                     f"{self.directory}: {exc}") from exc
        return schema


def find_schemas(configured: Path | None) -> SchemaSet | None:
    """The schema set of the configured directory (`schemas.dir` / PRESERVE_SCHEMAS), or None.

    Only the CLI reads settings and the environment, so it passes the directory in. A
    configured directory that is unusable is a ConfigurationError, not a silent None.
    """
    if configured is None:
        return None
    return SchemaSet.from_directory(configured)


# --- helpers ------------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False,
                           huge_tree=False)


def _global_elements(path: Path) -> frozenset[str]:
    try:
        schema = etree.parse(str(path), _safe_parser()).getroot()
    except (OSError, etree.XMLSyntaxError):
        return frozenset()  # _compile has already read it; this cannot fail in practice
    return frozenset(e.get("name", "") for e in schema.iterchildren(ns.qname(ns.XSD, "element")))


def _local_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme == "" and url:
        return Path(unquote(url))
    return None


def _find_mets(directory: Path, catalog: Catalog) -> Path | None:
    for url in ns.METS_SCHEMA_ALIASES:
        path = catalog.lookup(url)
        if path is not None and path.is_file():
            return path
    for name in ns.METS_SCHEMA_FILENAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def _compile(directory: Path, catalog: Catalog, loaded: dict[str, Path]) -> etree.XMLSchema:
    parser = _safe_parser()
    parser.resolvers.add(_CatalogResolver(catalog))
    urls = {ref.namespace: ref.url for ref in ns.VALIDATION_SCHEMAS}
    imports = "".join(f'<xs:import namespace="{namespace}" schemaLocation="{urls[namespace]}"/>'
                      for namespace in loaded)
    driver = f'<xs:schema xmlns:xs="{ns.XSD}">{imports}</xs:schema>'
    try:
        document = etree.fromstring(driver.encode(), parser,
                                    base_url=(directory / "preserve-driver.xsd").as_uri())
        return etree.XMLSchema(etree.ElementTree(document))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        errors = "; ".join(f"{e.filename}:{e.line}: {e.message}" for e in exc.error_log) or exc
        raise ConfigurationError(
            detail=f"the schemas in {directory} do not compile offline ({errors}); every "
            f"import must be mapped to a local file by {CATALOG_FILENAME}; " + _WHAT_TO_DO
        ) from exc
