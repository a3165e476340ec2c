"""Reading a BagIt bag directory and its structural findings (RFC 8493 sections 2, 3).

The bag is listed with lstat only (`tree.walk`); tag files are read, payload files are not.
Everything RFC 8493 section 3 ("Valid" and "Complete") asks that can be decided without
reading payload bytes is decided here: every payload file in every payload manifest, every
manifest entry present, Payload-Oxum against the listed sizes, tag manifest entries present.
Digests are compared later by `payload_check.check_payload`. Paths from manifests and
fetch.txt are only ever looked up in the listing, never opened.

Bags from other tools and from the BagIt drafts (docs/dialects.md): a 0.93-0.95 bag's
`package-info.txt` is its bag-info; a manifest entry that names a file on disk in another
Unicode normalization (macOS writes NFD) is matched to that one file, which keeps its on-disk
name; empty payload directories, operating-system files in the manifest and bag-info values
XML cannot carry are accepted with a warning saying what is dropped or kept.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from preserve.checksums import supported_algorithms
from preserve.deposit import tagfiles
from preserve.deposit.report import make
from preserve.deposit.tree import FileEntry, walk
from preserve.deposit.values import Deposit, DepositKind, Limits, PayloadEntry, TagEntry
from preserve.model import Finding
from preserve.names import NOT_XML_CHAR
from preserve.safeio import read_regular

log = logging.getLogger(__name__)

PAYLOAD_DIR = "data"
_MANIFEST_NAME = re.compile(r"(tag)?manifest-(.+)\.txt")
#: Algorithms too weak to be the only fixity (RFC 8493 section 2.4 recommends SHA-2).
WEAK_ALGORITHMS = frozenset({"md5", "sha1"})
#: Files operating systems leave in folders (Finder, Explorer, AppleDouble): name -> what.
_OS_FILES = {".DS_Store": "macOS Finder", "Thumbs.db": "Windows Explorer thumbnails",
             "desktop.ini": "Windows Explorer settings"}


def read_bag(root: Path, source: Path, kind: DepositKind, limits: Limits,
             findings: list[Finding] | None = None) -> Deposit:
    """Read the bag directory `root` (its structure only) into a `Deposit`."""
    found: list[Finding] = list(findings or [])
    tree = walk(root, limits)
    found.extend(tree.findings)
    tags = {f.path: f for f in tree.files if not f.path.startswith(PAYLOAD_DIR + "/")}
    payload = [f for f in tree.files if f.path.startswith(PAYLOAD_DIR + "/")]
    if PAYLOAD_DIR not in tree.directories:
        found.append(make("BAG-E011", PAYLOAD_DIR))
    elif not payload:
        found.append(make("PAY-W001", PAYLOAD_DIR + "/"))
    found.extend(_empty_directories(tree.directories, payload))

    version, encoding = None, "utf-8"
    if "bagit.txt" in tags:
        data = _read(tags["bagit.txt"], limits, found)
        if data is not None:
            declaration, problems = tagfiles.parse_bagit_txt(data)
            found.extend(problems)
            if declaration is not None:
                version, encoding = declaration.version, declaration.encoding
    elif not any(f.path == "bagit.txt" for f in found):  # a special file is reported already
        found.append(make("BAG-E001", "bagit.txt"))

    def text_of(name: str) -> str | None:
        entry = tags.get(name)
        data = _read(entry, limits, found) if entry else None
        if data is None:
            return None
        text, problems = tagfiles.decode_tag_file(data, encoding, name)
        found.extend(problems)
        return text

    legacy = version if tagfiles.is_legacy(version) else None
    info_name = "bag-info.txt"
    if (version in tagfiles.PACKAGE_INFO_VERSIONS and info_name not in tags
            and "package-info.txt" in tags):
        info_name = "package-info.txt"
        found.append(make("BAG-W006", info_name, version=version))
    bag_info: list[tuple[str, str]] = []
    if (text := text_of(info_name)) is not None:
        bag_info, problems = tagfiles.parse_tag_file(text, info_name, legacy)
        found.extend(problems)
        found.extend(_xml_unsafe_values(bag_info))
    fetch: list[tuple[str, int | None, str]] = []
    if (text := text_of("fetch.txt")) is not None:
        fetch, problems = tagfiles.parse_fetch(text)
        found.extend(problems)

    manifests: dict[str, dict[str, str]] = {}
    tag_manifests: dict[str, dict[str, str]] = {}
    unreadable: set[str] = set()
    supported = supported_algorithms()
    for name in sorted(tags):
        match = _MANIFEST_NAME.fullmatch(name)
        if match is None:
            continue
        is_tag, algorithm = bool(match.group(1)), match.group(2)
        if algorithm not in supported:
            found.append(make("MAN-E003", name, algorithm=algorithm))
            continue
        target = tag_manifests if is_tag else manifests
        target[algorithm] = {}
        text = text_of(name)
        if text is None:
            unreadable.add(name)
            continue
        entries, problems = tagfiles.parse_manifest(text, name, algorithm, payload=not is_tag)
        found.extend(problems)
        target[algorithm] = entries

    if not manifests:
        found.append(make("MAN-E001", "manifest-sha512.txt"))
    elif set(manifests) <= WEAK_ALGORITHMS:
        found.append(make("MAN-W001", "", algorithms=", ".join(sorted(manifests))))

    payload_paths = {f.path for f in payload}
    for algorithm in list(manifests):
        name = f"manifest-{algorithm}.txt"
        entries = _match_unencoded(manifests[algorithm], payload_paths, name, found)
        manifests[algorithm] = _match_normalization(entries, payload_paths, name, found)
    found.extend(_os_files(manifests, payload_paths))
    fetched = {path for _, _, path in fetch}
    incomplete: set[str] = set()
    for algorithm, entries in manifests.items():
        manifest = f"manifest-{algorithm}.txt"
        if manifest in unreadable:
            continue
        for path in sorted(payload_paths - entries.keys()):
            found.append(make("MAN-E008", path, entry=path, manifest=manifest))
        for path in sorted(entries.keys() - payload_paths):
            if path in fetched:
                incomplete.add(path)
            else:
                found.append(make("MAN-E009", path, entry=path, manifest=manifest))
    found.extend(make("BAG-E014", path) for path in sorted(incomplete))

    for algorithm, entries in tag_manifests.items():
        manifest = f"tagmanifest-{algorithm}.txt"
        if manifest in unreadable:
            continue
        for path in sorted(entries.keys() - tags.keys()):
            found.append(make("MAN-E009", path, entry=path, manifest=manifest))
        for path in sorted(tags.keys() - entries.keys()):
            if not path.startswith("tagmanifest-"):
                found.append(make("MAN-W002", path, entry=path, manifest=manifest))

    found.extend(_check_oxum(bag_info, payload))
    prefix = len(PAYLOAD_DIR) + 1
    # One string per payload path, shared by every manifest and the payload listing: a
    # deposit of 200,000 files would otherwise hold each path three times for the whole
    # ingest (docs/performance.md, "Memory per file").
    shared: dict[str, str] = {}

    def short(path: str) -> str:
        name = path[prefix:]
        return shared.setdefault(name, name)

    return Deposit(
        kind=kind,
        source=source,
        root=root,
        bagit_version=version,
        encoding=encoding,
        bag_info=tuple(bag_info),
        manifests=_freeze({a: {short(p): d for p, d in e.items()} for a, e in manifests.items()}),
        tag_manifests=_freeze(tag_manifests),
        fetch=tuple(fetch),
        payload=tuple(PayloadEntry(short(f.path), f.os_path, f.size) for f in payload),
        tag_files=tuple(TagEntry(f.path, f.source, f.size) for f in sorted(tags.values(),
                                                                          key=lambda t: t.path)),
        findings=tuple(found),
    )


def _read(entry: FileEntry, limits: Limits, found: list[Finding]) -> bytes | None:
    try:
        return read_regular(entry.source, limits.max_tag_file_size)
    except OSError as exc:
        found.append(make("BAG-E015", entry.path, detail=exc.strerror or str(exc)))
        return None


def _check_oxum(bag_info: list[tuple[str, str]], payload: list[FileEntry]) -> list[Finding]:
    """Payload-Oxum (section 2.2.2) against the sizes listed: no byte needs to be read."""
    values = [value for label, value in bag_info if label.casefold() == "payload-oxum"]
    if not values:
        return []
    parsed = [tagfiles.parse_oxum(value) for value in values]
    if any(p is None for p in parsed) or len(set(parsed)) > 1:
        return [make("BAG-E009", "bag-info.txt", value=" / ".join(values))]
    octets, streams = parsed[0]  # type: ignore[misc]
    actual_octets = sum(f.size for f in payload)
    if (octets, streams) != (actual_octets, len(payload)):
        return [make("BAG-E010", "bag-info.txt", declared_octets=octets, declared_streams=streams,
                     octets=actual_octets, streams=len(payload))]
    return []


def _empty_directories(directories: list[str], payload: list[FileEntry]) -> list[Finding]:
    """Payload directories with no file below them: not stored (PAY-W003)."""
    holding = {f.path.rsplit("/", 1)[0] for f in payload}
    ancestors = {"/".join(path.split("/")[:i]) for path in holding
                 for i in range(1, path.count("/") + 2)}
    return [make("PAY-W003", d + "/") for d in directories
            if d.startswith(PAYLOAD_DIR + "/") and d not in ancestors]


def _xml_unsafe_values(bag_info: list[tuple[str, str]]) -> list[Finding]:
    found = []
    for label, value in bag_info:
        chars = sorted({f"U+{ord(m.group()):04X}" for m in NOT_XML_CHAR.finditer(value)})
        if chars:
            found.append(make("BAG-W008", "bag-info.txt", label=label,
                              characters=", ".join(chars)))
    return found


def _match_unencoded(entries: dict[str, str], on_disk: set[str], manifest: str,
                     found: list[Finding]) -> dict[str, str]:
    """Entries written without RFC 8493's percent-encoding (bagit-python writes `%` as is):
    `data/a%25b` read as `data/a%b` but only `data/a%25b` is on disk. When the line as
    written names exactly that file, and the decoded name names none, it is that file
    (MAN-W005, one finding per manifest)."""
    result, remapped = dict(entries), []
    for path in entries:
        written = tagfiles.encode_path(path)
        if path not in on_disk and written != path and written in on_disk:
            result[written] = result.pop(path)
            remapped.append(written)
    if remapped:
        found.append(make("MAN-W005", manifest, count=len(remapped), entry=remapped[0]))
    return result


def _match_normalization(entries: dict[str, str], on_disk: set[str], manifest: str,
                         found: list[Finding]) -> dict[str, str]:
    """Map manifest entries to the one file on disk that is the same name in another Unicode
    normalization (NAME-W003); the on-disk name is kept byte-exact. Anything ambiguous (two
    entries or two files with the same normal form) is left as it is and reported as missing
    or unlisted by the caller."""
    missing = [p for p in entries if p not in on_disk]
    if not missing:
        return entries
    unlisted: dict[str, list[str]] = {}
    for path in on_disk - entries.keys():
        unlisted.setdefault(unicodedata.normalize("NFC", path), []).append(path)
    wanted: dict[str, list[str]] = {}
    for path in entries:
        wanted.setdefault(unicodedata.normalize("NFC", path), []).append(path)
    result = dict(entries)
    for path in missing:
        key = unicodedata.normalize("NFC", path)
        files = unlisted.get(key, [])
        if len(files) != 1 or len(wanted[key]) != 1:
            continue
        disk = files[0]
        forms = "NFC in the manifest, NFD on disk" if path == key else (
            "NFD in the manifest, NFC on disk" if disk == key else "different forms")
        found.append(make("NAME-W003", disk, manifest=manifest, entry=path, forms=forms))
        result[disk] = result.pop(path)
    return result


def _os_files(manifests: dict[str, dict[str, str]], payload_paths: set[str]) -> list[Finding]:
    listed = sorted({p for entries in manifests.values() for p in entries} & payload_paths)
    found = []
    for path in listed:
        name = path.rsplit("/", 1)[-1]
        kind = _OS_FILES.get(name) or ("macOS AppleDouble resource fork"
                                       if name.startswith("._") else None)
        if kind is not None:
            found.append(make("PAY-W004", path, kind=kind))
    return found


def _freeze(mapping: dict[str, dict[str, str]]) -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in sorted(mapping.items())})
