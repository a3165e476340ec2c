"""The one catalogue of finding codes (DESIGN.md, "finding"; STYLE.md, "Errors").

Each code is stable forever: tests and users key on it, never on the message text. A code has
a severity, a message template (formatted with keyword arguments) and the rule it enforces,
usually an RFC 8493 section. Prefixes: `BAG-` bag structure and tag files, `MAN-` manifests
and fixity, `PAY-` payload files, `SER-` serialized (zip/tar) deposits, `NAME-` file names,
`ING-` ingest decisions, `AUD-` fixity audits, `META-` descriptive metadata and the METS,
`CHK-` reconciling storage and catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from preserve.model import Finding, Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class FindingCode:
    """One entry of the catalogue."""

    code: str
    severity: Severity
    template: str
    rule: str


_CATALOGUE: list[FindingCode] = [
    # --- ingest decisions -------------------------------------------------------------------
    FindingCode("ING-E001", E, "External-Identifier {identifier!r} is already held by package "
                "{package_id}; use `--as-version-of {package_id}` to add this deposit as its next "
                "version", "DESIGN.md Data flow: one package per intellectual entity"),
    FindingCode("ING-E002", E, "the exact same payload is already held by package {package_id}; "
                "use `--as-version-of {package_id}` to add this deposit as its next version",
                "DESIGN.md Data flow: one package per intellectual entity"),
    FindingCode("ING-E003", E, "package id {package_id!r} is already taken; choose another --id",
                "DESIGN.md Catalog: package ids are unique"),
    FindingCode("ING-E004", E, "package id {package_id!r} is not allowed: {reason}",
                "OCFL 1.1 section 3.1: object identifiers"),
    FindingCode("ING-E005", E, "the deposit changed while it was read: {detail}; ingest it again "
                "once nothing is writing to it", "DESIGN.md Data flow: read once, verify"),
    FindingCode("ING-E006", E, "the payload file could not be read ({detail}); it vanished, was "
                "replaced by something that is not a regular file, or the disk failed: check the "
                "deposit and ingest it again", "RFC 8493 section 7.2; DESIGN.md Data flow"),
    FindingCode("ING-E007", E, "object {package_id} is in the storage root but not (or not at "
                "this version) in the catalog, and this ingest cannot safely record it: {detail}. "
                "Nothing was stored; run `preserve check` to reconcile storage and catalog, then "
                "ingest again", "DESIGN.md Rules: a failed or interrupted ingest leaves no "
                "partial package; re-running is safe"),
    FindingCode("ING-E008", E, "package {package_id} received version v{version} from another "
                "ingest while this deposit was being staged; nothing was stored: ingest it again "
                "to add it as the next version", "OCFL 1.1 section 3.3: versions are sequential"),
    FindingCode("ING-E010", E, "External-Identifier {identifier!r} belonged to package "
                "{package_id}, which was deaccessioned; nothing was stored. To deposit it as a "
                "new package anyway, ingest again with `--allow-deaccessioned-id`",
                "issue 16 section 2: a deaccessioned identifier is reused only on purpose"),
    FindingCode("ING-E011", E, "package {package_id} was deaccessioned: its id is kept by its "
                "tombstone and never reused, and it takes no new versions; ingest without "
                "--id/--as-version-of (a new package)",
                "issue 16 section 2: the tombstone keeps the id"),
    FindingCode("ING-E009", E, "the payload is identical to the newest version v{version} of "
                "package {package_id}; nothing was stored (was this deposit ingested already?). "
                "To store an unchanged payload as a new version anyway, ingest again with "
                "`--allow-unchanged`", "OCFL 1.1 section 3.3: a version records a change; "
                "re-running is safe (DESIGN.md Rules)"),
]

CATALOGUE: dict[str, FindingCode] = {}


def register(*codes: FindingCode) -> None:
    """Add codes to the catalogue; a code may be defined only once."""
    for entry in codes:
        if entry.code in CATALOGUE:
            raise ValueError(f"finding code {entry.code} defined twice")
        if entry.severity is Severity.ERROR and "-E" not in entry.code:
            raise ValueError(f"error code {entry.code} must contain -E")
        if entry.severity is Severity.WARNING and "-W" not in entry.code:
            raise ValueError(f"warning code {entry.code} must contain -W")
        CATALOGUE[entry.code] = entry


register(*_CATALOGUE)


# --- deposits: bag structure, manifests, payload, serialization, names (preserve.deposit) ---
_DEPOSIT_CODES: list[FindingCode] = [
    FindingCode("BAG-E001", E, "no bagit.txt at the top of the bag; add the bag declaration "
                "(BagIt-Version and Tag-File-Character-Encoding)", "RFC 8493 section 2.1.1"),
    FindingCode("BAG-E002", E, "bagit.txt is malformed: {detail}; it must hold exactly the lines "
                "'BagIt-Version: M.N' and 'Tag-File-Character-Encoding: ENCODING'",
                "RFC 8493 section 2.1.1"),
    FindingCode("BAG-E003", E, "BagIt-Version {version!r} is not supported; re-bag the deposit as "
                "BagIt 1.0 (preserve reads 1.0 and the drafts 0.93-0.97)",
                "RFC 8493 section 2.1.1"),
    FindingCode("BAG-E004", E, "Tag-File-Character-Encoding {encoding!r} is not a known text "
                "encoding; declare UTF-8 and re-encode the tag files", "RFC 8493 section 2.1.1"),
    FindingCode("BAG-E005", E, "bagit.txt starts with a byte-order mark; remove the BOM",
                "RFC 8493 section 2.1.1: the bag declaration MUST NOT contain a BOM"),
    FindingCode("BAG-E006", E, "tag file {path} cannot be decoded as {encoding} ({detail}); "
                "re-encode it or correct Tag-File-Character-Encoding", "RFC 8493 section 2.1.1"),
    FindingCode("BAG-E007", E, "tag file {path} contains a NUL byte (line {line}); tag files "
                "are text: remove it", "RFC 8493 section 2.1, 2.2.2"),
    FindingCode("BAG-E008", E, "{path} line {line} is not a 'Label: value' metadata element: "
                "{text}; fix the line or indent it as a continuation", "RFC 8493 section 2.2.2"),
    FindingCode("BAG-E009", E, "Payload-Oxum {value!r} is malformed; it must be "
                "'OCTETCOUNT.STREAMCOUNT' (two decimal numbers) and appear once",
                "RFC 8493 section 2.2.2"),
    FindingCode("BAG-E010", E, "Payload-Oxum says {declared_octets} octets in {declared_streams} "
                "files but the payload has {octets} octets in {streams} files; the bag is "
                "incomplete or changed: re-bag it", "RFC 8493 section 2.2.2, 3"),
    FindingCode("BAG-E011", E, "no payload directory data/ in the bag; put the payload files "
                "under data/", "RFC 8493 section 2.1.2"),
    FindingCode("BAG-E012", E, "{path} cannot be read as a deposit: {detail}; name an existing "
                "bag directory, folder, .zip, .tar or .tar.gz", "DESIGN.md: deposits"),
    FindingCode("BAG-E013", E, "fetch.txt line {line} is malformed: {text}; each line must be "
                "'URL LENGTH FILENAME'", "RFC 8493 section 2.2.3"),
    FindingCode("BAG-E014", E, "the bag is incomplete: {path} is listed in fetch.txt but not "
                "present; preserve never fetches: fetch the files and complete the bag first",
                "RFC 8493 section 2.2.3, 3"),
    FindingCode("BAG-E015", E, "tag file {path} cannot be read ({detail}); check permissions "
                "and size", "RFC 8493 section 2.1"),
    FindingCode("BAG-W001", W, "tag file {path} starts with a UTF-8 byte-order mark; it was "
                "ignored, but remove it for other tools", "RFC 8493 section 2.1.1"),
    FindingCode("BAG-W002", W, "{path} line {line} is empty; metadata files should not contain "
                "empty lines", "RFC 8493 section 2.2.2"),
    FindingCode("BAG-W003", W, "{path} line {line}: the label is not followed by ': '; write "
                "'Label: value'", "RFC 8493 section 2.2.2"),
    FindingCode("BAG-W004", W, "Tag-File-Character-Encoding is {encoding!r}; UTF-8 is "
                "recommended", "RFC 8493 section 2.1.1"),
    # --- dialects of other tools and of the BagIt drafts (issue 12; docs/dialects.md) ------
    FindingCode("BAG-W005", W, "BagIt-Version {version} is a draft of 2008-2011, not RFC 8493; "
                "the bag was read by that draft's rules and is stored as a BagIt 1.0 bag (the "
                "tag files as received are kept in metadata/submission/). Ask the sender to "
                "re-bag new deposits as BagIt 1.0", "BagIt drafts 0.93-0.96 (IETF draft-kunze-bagit, "
                "2008-2011); RFC 8493 section 2.1.1"),
    FindingCode("BAG-W006", W, "the bag's metadata was read from {path}, the name BagIt "
                "{version} gave bag-info.txt; it is stored as bag-info.txt of a 1.0 bag",
                "BagIt drafts 0.93-0.95 section 2.2.2 (package-info.txt); RFC 8493 2.2.2"),
    FindingCode("BAG-W007", W, "{path} line {line} has whitespace BagIt 1.0 does not allow "
                "({text}); in a BagIt {version} bag, as older tools wrote them, it was ignored",
                "RFC 8493 section 2.1.1, 2.2.2; BagIt drafts 0.93-0.97"),
    FindingCode("BAG-W008", W, "bag-info.txt {label}: the value holds characters XML 1.0 cannot "
                "carry ({characters}); bag-info.txt keeps it byte-exact, the METS shows each as "
                "\\uXXXX. Correct the value at the sender if it is a mistake",
                "XML 1.0 section 2.2 (Char); RFC 8493 section 2.2.2"),
    FindingCode("MAN-W003", W, "{path}: {count} path(s) start with './' (first on line {line}), "
                "as `find . | xargs sha256sum` writes them; read relative to the bag root",
                "RFC 8493 section 2.1.3: paths are relative to the base directory"),
    FindingCode("MAN-W004", W, "{path}: {count} path(s) carry the '*' binary-mode marker of "
                "`md5sum -b`/`sha256sum -b` (first on line {line}); the '*' was not taken as "
                "part of the name", "RFC 8493 section 2.1.3; GNU coreutils md5sum output format"),
    FindingCode("MAN-W005", W, "{path}: {count} path(s) are written without the percent-encoding "
                "RFC 8493 requires (e.g. {entry}, whose '%25' names a file with '%25' in its "
                "name, as bagit-python writes it); each names exactly one file on disk as "
                "written, and none decoded, so it was read as written",
                "RFC 8493 section 2.1.3 (percent-encoding of '%', CR, LF)"),
    FindingCode("NAME-W003", W, "{manifest} lists {entry} but the file is named {path} on disk: "
                "the same name in another Unicode normalization ({forms}, as macOS writes "
                "names); it is stored under its on-disk name, byte-exact, and this finding "
                "records both forms", "Unicode UAX #15; RFC 8493 section 3; DESIGN.md names"),
    FindingCode("PAY-W003", W, "{path} is an empty directory; OCFL and BagIt manifests hold "
                "files only, so it is not stored. Put a file in it if it matters",
                "RFC 8493 section 2.1.2; OCFL 1.1 section 3.3 (content is files)"),
    FindingCode("PAY-W004", W, "{path} is an operating-system file ({kind}), not a document; it "
                "is listed in the manifest, so it is stored as received. Remove it before "
                "bagging next time", "RFC 8493 section 3 (every listed file is payload)"),
    FindingCode("SER-W002", W, "archive member {path} has mode {mode} ({what}); permission bits "
                "are not kept: it is extracted and stored as a plain file without them",
                "RFC 8493 section 7.2; POSIX tar (ustar) mode field; APPNOTE.TXT 4.4.15 "
                "(zip external attributes)"),
    FindingCode("EARK-W001", W, "the package METS is named {path}, not METS.xml; it was read as "
                "an E-ARK package all the same. Rename it for other tools",
                "E-ARK CSIP 2.1 CSIPSTR4 (the root METS file is named METS.xml)"),
    FindingCode("MAN-E001", E, "the bag has no payload manifest; add manifest-sha512.txt (or "
                "manifest-sha256.txt) listing every payload file", "RFC 8493 section 2.1.3, 3"),
    FindingCode("MAN-E002", E, "{path} line {line} is not '<digest> <path>': {text}; fix or "
                "regenerate the manifest", "RFC 8493 section 2.1.3"),
    FindingCode("MAN-E003", E, "{path}: algorithm {algorithm!r} is not supported; use sha512 "
                "or sha256", "RFC 8493 section 2.4"),
    FindingCode("MAN-E004", E, "{path} line {line}: {digest!r} is not a {algorithm} digest "
                "(wrong length or not hexadecimal); regenerate the manifest",
                "RFC 8493 section 2.1.3"),
    FindingCode("MAN-E005", E, "{path} lists {entry} more than once; keep one line per file",
                "RFC 8493 section 2.1.3"),
    FindingCode("MAN-E006", E, "{path} line {line} names an unsafe path {entry} (absolute, "
                "'..', '~', backslash or empty segment); it was not opened. Fix the manifest",
                "RFC 8493 section 2.1.3, 7.2"),
    FindingCode("MAN-E007", E, "{path} lists {entry}, which is outside the area it may cover "
                "(payload manifests: data/ only; tag manifests: tag files only); fix the manifest",
                "RFC 8493 section 2.1.3, 2.2.1"),
    FindingCode("MAN-E008", E, "payload file {entry} is not listed in {manifest}; every payload "
                "file must be in every payload manifest: regenerate the manifests",
                "RFC 8493 section 3"),
    FindingCode("MAN-E009", E, "{manifest} lists {entry} but there is no such regular file; "
                "add the file or remove the line", "RFC 8493 section 3"),
    FindingCode("MAN-E010", E, "{algorithm} digest of {entry} is {actual}, {manifest} says "
                "{expected}; the file is damaged or the manifest is wrong: obtain a good copy",
                "RFC 8493 section 3"),
    FindingCode("MAN-E011", E, "{entry} {problem}; ingest it again",
                "DESIGN.md Data flow: every byte read once"),
    FindingCode("MAN-E012", E, "{entry} is {actual} bytes when read but {listed} bytes when "
                "listed: it changed while being read; ingest again when nothing writes to it",
                "DESIGN.md Data flow: read once, verify"),
    FindingCode("MAN-W001", W, "the payload manifests use only {algorithms}; add a sha512 or "
                "sha256 manifest", "RFC 8493 section 2.4"),
    FindingCode("MAN-W002", W, "tag file {entry} is not listed in {manifest}; tag manifests "
                "should cover every tag file", "RFC 8493 section 2.2.1"),
    FindingCode("PAY-E001", E, "{path} is a {kind}, not a regular file or directory; it was not "
                "followed or opened. Replace it with the file it stands for, or remove it",
                "RFC 8493 section 2.1.2, 7.2"),
    FindingCode("PAY-E002", E, "{path} is nested {depth} levels deep, more than the limit of "
                "{limit}; flatten the folder structure", "preserve Limits.max_depth"),
    FindingCode("PAY-E003", E, "{path} cannot be listed ({detail}); check its permissions",
                "DESIGN.md: deposits are read completely"),
    FindingCode("PAY-E004", E, "the deposit holds more than {limit} entries; split it",
                "preserve Limits.max_members"),
    FindingCode("PAY-E005", E, "{path} is a hard link with {links} names, {outside} of them "
                "outside the deposit: its bytes belong to a file outside, which can change at any "
                "time; copy the file into the deposit instead of linking it",
                "RFC 8493 section 7.2; DESIGN.md: deposits are untrusted input"),
    FindingCode("PAY-W001", W, "the payload is empty: {path} holds no files",
                "RFC 8493 section 2.1.2"),
    FindingCode("PAY-W002", W, "{path} is a hard link to {other} in the same deposit; both "
                "names are stored (the content once)", "RFC 8493 section 7.2"),
    # --- export ------------------------------------------------------------------------------
    FindingCode("EXP-W001", W, "the repository's catalog is read-only (a mounted replica or a "
                "snapshot): the export carries its transfer event {event} in its METS, but this "
                "repository's log does not record it; record transfers on the writable "
                "repository", "DESIGN.md Rules: every action is an event where it can be written"),
    FindingCode("SER-E001", E, "{path} is not a readable {kind} archive ({detail}); re-create "
                "it", "RFC 8493 section 4.2: serialization"),
    FindingCode("SER-E002", E, "archive member {path} has an unsafe name (absolute, '..', "
                "backslash or drive letter); nothing was extracted. Re-create the archive with "
                "relative names", "RFC 8493 section 4.2, 7.2"),
    FindingCode("SER-E003", E, "archive member {path} is a {kind}; only regular files and "
                "directories are accepted and nothing was extracted", "RFC 8493 section 7.2"),
    FindingCode("SER-E004", E, "archive member {path} appears more than once (or clashes with "
                "{other}); nothing was extracted. Re-create the archive", "RFC 8493 section 4.2"),
    FindingCode("SER-E005", E, "archive member {path} has a NUL character in its name (no "
                "file system accepts one); nothing was extracted. Rename the file and re-create "
                "the archive",
                "RFC 8493 section 7.2"),
    FindingCode("SER-E006", E, "archive member {path} is encrypted; deposit an unencrypted "
                "archive", "RFC 8493 section 4.2"),
    FindingCode("SER-E007", E, "the archive exceeds the limit on {what} ({value} > {limit}); "
                "nothing was kept. Split the deposit or raise the limit",
                "preserve Limits: decompression bombs"),
    FindingCode("SER-E008", E, "no deposit found in the archive: it holds no files, or a "
                "bagit.txt (METS.xml) that is neither at the archive root nor inside one single "
                "top-level directory. Re-pack it with the bag (E-ARK package, folder) at the root "
                "or as the one top-level directory (`zip -r p.zip folder`)",
                "RFC 8493 section 4.2"),
    FindingCode("SER-E009", E, "extracting {path} failed ({detail}); nothing was kept. Check "
                "the archive and free space", "RFC 8493 section 4.2"),
    FindingCode("SER-E010", E, "archive member {path} uses an unsupported compression method "
                "({method}); re-create the archive with deflate or store",
                "RFC 8493 section 4.2"),
    FindingCode("SER-W001", W, "archive member {path} has a UTF-8 name without the zip UTF-8 "
                "flag; it was read as UTF-8", "APPNOTE.TXT 4.4.4 bit 11"),
    FindingCode("NAME-E001", E, "the name {path} is not valid UTF-8; rename it so it can be "
                "stored and exchanged", "RFC 8493 section 2.1.3; DESIGN.md names"),
    FindingCode("NAME-E002", E, "{path} and {other} differ only in Unicode normalization "
                "({kind}); they cannot both survive on other filesystems: rename one",
                "DESIGN.md names; Unicode UAX #15"),
    FindingCode("NAME-E003", E, "a segment of {path} is {size} bytes in UTF-8, over the limit "
                "of {limit}; shorten the name", "preserve Limits.max_name_bytes"),
    FindingCode("NAME-E004", E, "{path} is {size} bytes long in UTF-8, over the limit of "
                "{limit}; below the repository's own directories it would exceed the operating "
                "system's path limit (PATH_MAX): shorten the folder names",
                "preserve Limits.max_path_bytes; POSIX PATH_MAX"),
    FindingCode("NAME-E005", E, "the name {path} contains a backslash: bag manifests and zip/tar "
                "archives refuse it (it separates folders on Windows), so the package could not "
                "be exported and received again; rename it", "RFC 8493 section 7.2; issue 18: "
                "every package accepted survives export and ingest"),
    FindingCode("NAME-W001", W, "{path} and {other} differ only in letter case; they collide on "
                "case-insensitive filesystems: consider renaming one", "DESIGN.md names"),
    FindingCode("NAME-W002", W, "the name {path} contains control or bidirectional formatting "
                "characters (shown escaped); it is kept as is, but consider renaming it",
                "DESIGN.md names; Unicode UAX #9"),
]

register(*_DEPOSIT_CODES)


# --- fixity audits (preserve.audit) ---------------------------------------------------------
_AUDIT_CODES: list[FindingCode] = [
    FindingCode("AUD-E001", E, "stored copy {content_path} of package {package_id} is damaged: "
                "read {size} bytes with sha512 {found}, but the catalog and the inventory both say "
                "{expected_size} bytes, sha512 {expected}; a copy was kept in {quarantine}. Restore "
                "it from a good copy", "DESIGN.md Rules: an audit never fixes silently; OCFL 1.1 "
                "section 3.5.1"),
    FindingCode("AUD-E002", E, "the catalog's digests of {content_path} in package {package_id} "
                "differ from the stored file and its OCFL inventory, which agree ({detail}); the "
                "catalog row is wrong: rebuild it from storage", "DESIGN.md Storage is the truth "
                "for content"),
    FindingCode("AUD-E003", E, "the OCFL inventory of package {package_id} disagrees with the "
                "stored file {content_path} and the catalog, which agree ({detail}); repair the "
                "inventory from a good copy", "OCFL 1.1 section 3.5.1, 3.5.3"),
    FindingCode("AUD-E004", E, "stored file, catalog and inventory all disagree on "
                "{content_path} in package {package_id} ({detail}); a copy was kept in "
                "{quarantine}. Restore the package from a good copy", "OCFL 1.1 section 3.5.1"),
    FindingCode("AUD-E005", E, "the OCFL inventory of package {package_id} cannot be trusted: "
                "{detail}", "OCFL 1.1 section 3.5, 3.5.6 (inventory sidecar)"),
    FindingCode("AUD-E006", E, "content file {content_path} of package {package_id} is missing "
                "from storage; restore it from a good copy", "OCFL 1.1 section 3.5.3 (manifest)"),
    FindingCode("AUD-E007", E, "content file {content_path} of package {package_id} could not "
                "be read ({detail}); check permissions and the disk, then audit again",
                "DESIGN.md Data flow: audit"),
    FindingCode("AUD-E008", E, "unexpected file {entry} in the object directory of package "
                "{package_id}: it is not in the inventory's manifest; find out who put it there. "
                "It was left in place", "OCFL 1.1 section 3.1 (object structure)"),
    FindingCode("AUD-E009", E, "package {package_id} is in the catalog but its OCFL object "
                "{object_path} is not in storage; restore it from a good copy",
                "DESIGN.md Catalog; OCFL 1.1 section 4"),
    FindingCode("AUD-E010", E, "storage holds object {object_id} at {object_path}, which the "
                "catalog does not know; it was left in place: find out where it came from",
                "DESIGN.md Catalog; OCFL 1.1 section 4"),
    FindingCode("AUD-E011", E, "the event log's hash chain is broken: {detail}; restore the "
                "catalog from a backup and find out who changed it",
                "DESIGN.md Catalog: events are append-only and hash-chained"),
    FindingCode("AUD-E012", E, "object directory {object_path} has no readable inventory "
                "({detail}), so its owner is unknown", "OCFL 1.1 section 3.5"),
    FindingCode("AUD-E013", E, "the sources disagree on {content_path} of package {package_id}: "
                "{detail}; a copy was kept in {quarantine}. The version's own bag manifest was "
                "written at ingest: find out who rewrote the others, restore from a good copy",
                "RFC 8493 section 2.1.3; issue 18: four sources"),
    FindingCode("AUD-E014", E, "the OCFL inventory of {version} of package {package_id} is not "
                "the one recorded when it was stored (sha512 {found}, recorded {expected}); its "
                "message, created, user or another field was rewritten: restore it from a good "
                "copy", "OCFL 1.1 section 3.5; issue 18: the catalog pins whole inventories"),
    FindingCode("AUD-E015", E, "the events table has lost its append-only trigger(s) "
                "{triggers}: someone with database access dropped them; find out who, restore "
                "them (`preserve db upgrade` on a fresh catalog, or from a backup) and verify "
                "the log", "DESIGN.md Catalog: events are append-only"),
    FindingCode("AUD-E016", E, "{entry} in the storage root is neither an OCFL object, nor a "
                "layout directory, nor one of the root's own files; find out who put it there. "
                "It was left in place", "OCFL 1.1 section 4.1; extension 0004"),
    FindingCode("AUD-E017", E, "{entry} is where an OCFL object belongs but holds no "
                "0=ocfl_object_1.1 declaration (it is empty or incomplete); restore the object "
                "from a good copy or remove the directory", "OCFL 1.1 sections 3.1, 4.1"),
    FindingCode("AUD-E018", E, "stored file {content_path} of package {package_id} is still "
                "{status}, found {since} ({paths}); restore it from a good copy: every audit "
                "reports it until it passes again", "issue 11: known damage stays visible"),
    FindingCode("AUD-W001", W, "the event log's head is not anchored in storage yet ({detail}); "
                "it was anchored now. If the log was anchored before, someone removed the "
                "anchor: compare the head with the one in earlier audit reports",
                "issue 11: the chain head is kept outside the catalog"),
    FindingCode("AUD-W002", W, "the clock is not to be trusted: {detail}",
                "issue 18: the clock"),
]

register(*_AUDIT_CODES)


# --- descriptive metadata and METS (preserve.metadata, preserve.ingest) ----------------------
_METADATA_CODES: list[FindingCode] = [
    FindingCode("META-W001", W, "{file}: column {column!r} names {tag!r}, which is not a "
                "well-formed BCP 47 language tag; its values were kept without a language. "
                "Write e.g. title[uz-Cyrl], title[fa-Arab]", "RFC 5646 section 2.1 (BCP 47)"),
    FindingCode("META-W002", W, "{file}: column {column!r} is not a Dublin Core element, so "
                "its values are not in the METS (the file is kept as received); use one of "
                "{elements}, optionally with [language]", "DCMES 1.1; preserve descriptive CSV"),
    FindingCode("META-W003", W, "{file} cannot be read as a UTF-8 CSV ({detail}); no "
                "descriptive metadata was taken from it (it is kept as received). Save it as "
                "UTF-8 CSV", "RFC 4180; preserve descriptive CSV"),
    FindingCode("META-W004", W, "the METS of this version was not validated against the METS "
                "1.12.1 and PREMIS 3.0 schemas because no schema directory is configured; set "
                "schemas.dir (or PRESERVE_SCHEMAS), and schemas.required = true to refuse "
                "ingests without it", "DESIGN.md Metadata: validated before commit"),
    # --- history imported from another archive (issue 5) -----------------------------------
    FindingCode("IMP-W001", W, "the sender's METS {file} was not used: {why}. The file is kept "
                "as received in metadata/submission/, but its PREMIS history was not imported; "
                "ask the sending archive for a valid METS if the history matters",
                "METS 1.12.1 + PREMIS 3.0 schemas; DESIGN.md Metadata"),
    FindingCode("IMP-E001", E, "{name}: its {algorithm} is {actual}, but the sender's METS "
                "{file} declares {declared}{size}; the package was damaged on its way: ask the "
                "sending archive for a new copy", "METS 1.12.1 file/@CHECKSUM, @SIZE"),
    FindingCode("IMP-E002", E, "the sender's METS {file} lists {href}, which is not in the "
                "package: it is incomplete. Ask the sending archive for a complete copy",
                "E-ARK CSIP 2.1 CSIP58 (every file listed is in the package); METS 1.12.1 FLocat"),
    FindingCode("IMP-W003", W, "{name}: the sender's METS declares no checksum preserve can "
                "verify ({why}); its digests start with this ingest",
                "E-ARK CSIP 2.1 CSIP69-CSIP71 (file checksums)"),
    FindingCode("IMP-W002", W, "an event of the sender's METS {file} was not imported: {why}",
                "PREMIS 3.0 Data Dictionary 2.1-2.5 (eventIdentifier, eventType, eventDateTime)"),
    FindingCode("IMP-W004", W, "the sender's METS {file} points to {href} ({why}); preserve never "
                "follows such a reference: what it names was not read and is not part of the "
                "package", "METS 1.12.1 FLocat/mdRef xlink:href; RFC 8493 section 7.2"),
    FindingCode("IMP-W005", W, "the sender's METS {file} holds PREMIS {version} history "
                "({events} event(s)); it was mapped to PREMIS 3.0 and imported, the file is "
                "kept byte-exact in metadata/submission/",
                "PREMIS 3.0 Data Dictionary, 'Changes in version 3.0'; PREMIS 2.2 schema"),
    FindingCode("IMP-W006", W, "the PREMIS 2 in {file} is not valid against the PREMIS 2.2 "
                "schema ({why}); its events were imported as read. Ask the sender for a valid "
                "document if the history matters", "PREMIS 2.2 schema (premis-v2-2.xsd)"),
    FindingCode("IMP-W007", W, "the deposit was read as an Archivematica AIP: its history is "
                "taken from {file} (payload below data/objects/ is stored under its names)",
                "Archivematica AIP structure (BagIt 0.97, METS.<uuid>.xml); docs/dialects.md"),
    FindingCode("META-W005", W, "{file} was not used as descriptive metadata: {why}; it is "
                "kept as received. Supply plain UTF-8 Dublin Core or MODS 3 XML",
                "DESIGN.md: deposits are untrusted input; METS 1.12.1 dmdSec"),
    FindingCode("META-W006", W, "{file} in this plain folder was read as the package's "
                "descriptive metadata and kept with the deposit's own files in "
                "metadata/submission/, not stored as payload; deposit it as a bag (or in a "
                "folder without it) if it is part of the work itself",
                "issue 16 §3: a folder deposit may carry metadata/descriptive.csv"),
    FindingCode("META-E001", E, "{file} cannot be used as the package's descriptive "
                "metadata: {why}; nothing was stored. Give a UTF-8 descriptive CSV "
                "(docs/metadata.md), a Dublin Core XML or a MODS 3 XML file",
                "issue 16 §3: preserve describe, ingest --metadata; DCMES 1.1; MODS 3"),
    FindingCode("META-W007", W, "the deposit's own descriptive metadata ({file}) was not used: "
                "{given}, given with --metadata, describes the package instead (both are kept "
                "in the version)", "issue 16 §3: ingest --metadata"),
]

register(*_METADATA_CODES)

# --- rights statements (preserve.metadata.rights; docs/rights.md) -----------------------------
_RIGHTS_CODES: list[FindingCode] = [
    FindingCode("RIGHTS-E001", E, "{file} cannot be read as a UTF-8 rights CSV ({why}); "
                "nothing was stored. Save it as UTF-8 CSV with a header row (docs/rights.md)",
                "issue 16 §1; RFC 4180"),
    FindingCode("RIGHTS-E002", E, "{file}: column {column!r} is not a rights column; the "
                "columns are {columns} (note may carry a language: note[uz-Cyrl])",
                "issue 16 §1; docs/rights.md"),
    FindingCode("RIGHTS-E003", E, "{file} line {line}: basis {basis!r} is not one of {bases}",
                "PREMIS 3.0 Data Dictionary 4.1.2 rightsBasis"),
    FindingCode("RIGHTS-E004", E, "{file} line {line}: {column} {value!r} is not a date; write "
                "YYYY, YYYY-MM, YYYY-MM-DD or OPEN", "PREMIS 3.0 4.1.3.5 applicable dates; EDTF"),
    FindingCode("RIGHTS-E005", E, "{file} line {line}: path {target!r} is not a payload file of "
                "the package; give the path as under data/ (or leave it empty for the package)",
                "PREMIS 3.0 4.1.8 linkingObjectIdentifier"),
    FindingCode("RIGHTS-W001", W, "{file}: the sender's rights statement {identifier!r} "
                "({basis}) was not kept for this package: {why}. It stays in {file} as "
                "received; add it with `preserve rights ID --add rights.csv` if it governs "
                "this package", "PREMIS 3.0 Data Dictionary 4.1.2 rightsBasis, 4.1.8 "
                "linkingObjectIdentifier; PREMIS 2.2 rightsStatement"),
]

register(*_RIGHTS_CODES)


# --- reconciling storage and catalog (preserve.check) ---------------------------------------
_CHECK_CODES: list[FindingCode] = [
    FindingCode("CHK-E001", E, "staging directory {directory} was last written {age} ago and no ingest "
                "is using it: it is left over from an interrupted run. It is never the only copy "
                "of anything (the deposit is); `preserve check --repair` removes it",
                "DESIGN.md Rules: an interrupted ingest leaves no partial package"),
    FindingCode("CHK-E002", E, "storage holds object {object_id} at {object_path}, which the "
                "catalog does not know (an ingest interrupted before its catalog transaction, or "
                "an object copied in); `preserve check --repair` validates every byte and adopts "
                "it, or moves it into quarantine if it is not valid",
                "DESIGN.md Rules: catalog rows about files can be rebuilt from storage"),
    FindingCode("CHK-E003", E, "package {package_id} is in the catalog but its OCFL object "
                "{object_path} is not in storage; restore it from another copy or a backup. "
                "`preserve check --repair` marks its copies missing (the catalog keeps it)",
                "DESIGN.md Rules: the event log is never edited; OCFL 1.1 section 4"),
    FindingCode("CHK-E004", E, "deposit {deposit_id} ({source}) has been in progress since "
                "{started}: its ingest was interrupted. `preserve check --repair` marks it "
                "failed; ingest the deposit again", "DESIGN.md Ingest: the attempt is logged"),
    FindingCode("CHK-E005", E, "object directory {object_path} is not a valid OCFL object of "
                "preserve ({detail}); `preserve check --repair` moves it into quarantine",
                "OCFL 1.1 sections 3.1, 3.5; RFC 8493 section 3"),
    FindingCode("CHK-E006", E, "package {package_id}: storage holds versions up to v{stored} but "
                "the catalog records {recorded}; {what}",
                "DESIGN.md Rules: catalog rows about files can be rebuilt from storage"),
    FindingCode("CHK-E007", E, "could not {action} {target}: {detail}; nothing else was changed "
                "for it. Fix the cause and run `preserve check --repair` again",
                "DESIGN.md Rules: repair is an explicit, logged action"),
    FindingCode("CHK-E008", E, "empty directory {directory} in the storage root, left by an "
                "object removed by hand; `preserve check --repair` removes it",
                "OCFL 1.1 section 4.2 (E073: no empty directories in the hierarchy)"),
    FindingCode("CHK-E009", E, "{directory} holds the intent record of an ingest interrupted "
                "after it began moving its version into storage; check keeps it, because it is "
                "what lets that version be completed and recorded exactly as planned. `preserve check "
                "--repair` records the stored version as planned (after verifying every byte) and "
                "removes it; or ingest the same deposit again (the re-run finishes the storage "
                "commit if needed and records the stored version without copying it)",
                "DESIGN.md Rules: a failed or interrupted ingest leaves no partial package; "
                "re-running is safe"),
    FindingCode("CHK-E010", E, "{entry} in the storage root is neither an OCFL object, nor a "
                "layout directory, nor one of the root's own files; find out who put it there. "
                "It is left in place", "OCFL 1.1 section 4.1; extension 0004"),
    FindingCode("CHK-E011", E, "{entry} is where an OCFL object belongs but holds no "
                "0=ocfl_object_1.1 declaration (it is empty or incomplete); restore the object "
                "from a good copy or remove the directory", "OCFL 1.1 sections 3.1, 4.1"),
    FindingCode("CHK-E012", E, "stored file {content_path} of package {package_id} is "
                "{status} since {since} ({paths}); restore it from a good copy, then `preserve "
                "audit` confirms it", "issue 11: known damage stays visible"),
    FindingCode("CHK-E013", E, "the events table has lost its append-only trigger(s) "
                "{triggers}: someone with database access dropped them; restore them and run "
                "`preserve log verify`", "DESIGN.md Catalog: events are append-only"),
    FindingCode("CHK-E014", E, "audit run {run_id}, started {started}, is still marked running "
                "but no audit holds the lock: it was killed; `preserve check --repair` closes it "
                "as interrupted (its checks so far stay recorded)",
                "DESIGN.md Catalog: audit_runs record every run"),
    FindingCode("CHK-E015", E, "a killed export left the partial file {file} ({age} old); "
                "`preserve check --repair` removes it (nothing at the export's destination is "
                "touched)", "DESIGN.md Export: a killed export leaves only the .partial name"),
    FindingCode("CHK-E016", E, "deaccession request {request} of package {package_id} was "
                "approved but its removal did not finish (killed?): `preserve check --repair` "
                "removes the remaining copies and records the deaccession",
                "issue 16 section 2: a removal is completed from its intent record"),
    FindingCode("CHK-W001", W, "{what} {target} is only {age} old, younger than the safety age "
                "of {min_age}: it may belong to an ingest running now, so it was left alone",
                "DESIGN.md Rules: re-running is safe"),
]

register(*_CHECK_CODES)


# --- E-ARK exports read back (preserve.export.eark) -----------------------------------------
_EARK_CODES: list[FindingCode] = [
    FindingCode("EARK-E001", E, "the file does not match its METS entry: {detail}; the export is "
                "damaged: export the package again", "E-ARK CSIP 2.1 CSIP27-CSIP30, CSIP69-CSIP72"),
    FindingCode("EARK-E002", E, "the file is listed in a METS document of the export but cannot be "
                "read ({detail}); export the package again", "E-ARK CSIP 2.1 CSIP24, CSIP79"),
    FindingCode("EARK-E003", E, "the file is in the export but no METS document lists it; it was "
                "not written by the export: find out where it came from",
                "E-ARK CSIP 2.1 CSIP58: every file is referenced from the METS"),
    FindingCode("EARK-E004", E, "a METS document of the export cannot be read: "
                "{detail}; export the package again", "E-ARK CSIP 2.1 CSIPSTR4, CSIP1000"),
]

register(*_EARK_CODES)


# --- BagIt profiles (preserve.deposit.profile) ------------------------------------------------
_SPEC = "BagIt Profiles Specification 1.4.0"
_PROFILE_CODES: list[FindingCode] = [
    FindingCode("PROF-E001", E, "the BagIt profile {path} cannot be used: {why}; nothing was "
                "checked against it. Fix the profile (docs/profiles.md)", _SPEC),
    FindingCode("PROF-E002", E, "bag-info.txt has no {label}, which profile {profile} requires",
                _SPEC + ": Bag-Info required"),
    FindingCode("PROF-E003", E, "bag-info.txt {label} is {value!r}; profile {profile} allows "
                "only: {allowed}", _SPEC + ": Bag-Info values"),
    FindingCode("PROF-E004", E, "bag-info.txt has {label} {count} times; profile {profile} "
                "allows it once", _SPEC + ": Bag-Info repeatable"),
    FindingCode("PROF-E005", E, "the bag has no {path}: profile {profile} requires a "
                "{algorithm} payload manifest", _SPEC + ": Manifests-Required"),
    FindingCode("PROF-E006", E, "{path}: profile {profile} allows payload manifests only for "
                "{allowed}", _SPEC + ": Manifests-Allowed"),
    FindingCode("PROF-E007", E, "the bag has no {path}: profile {profile} requires a "
                "{algorithm} tag manifest", _SPEC + ": Tag-Manifests-Required"),
    FindingCode("PROF-E008", E, "{path}: profile {profile} allows tag manifests only for "
                "{allowed}", _SPEC + ": Tag-Manifests-Allowed"),
    FindingCode("PROF-E009", E, "the bag has no tag file {path}, which profile {profile} "
                "requires", _SPEC + ": Tag-Files-Required"),
    FindingCode("PROF-E010", E, "tag file {path} is not allowed by profile {profile} (allowed: "
                "{allowed})", _SPEC + ": Tag-Files-Allowed"),
    FindingCode("PROF-E011", E, "the bag has no payload file {path}, which profile {profile} "
                "requires", _SPEC + ": Payload-Files-Required"),
    FindingCode("PROF-E012", E, "payload file {path} is not allowed by profile {profile} "
                "(allowed: {allowed})", _SPEC + ": Payload-Files-Allowed"),
    FindingCode("PROF-E013", E, "the bag has a fetch.txt; profile {profile} does not allow "
                "one (Allow-Fetch.txt is false)", _SPEC + ": Allow-Fetch.txt"),
    FindingCode("PROF-E014", E, "BagIt-Version {version} is not accepted by profile {profile} "
                "(accepted: {accepted})", _SPEC + ": Accept-BagIt-Version"),
    FindingCode("PROF-E015", E, "{path} is a {kind} deposit, not a BagIt bag, but profile "
                "{profile} applies to it; deposit a bag", _SPEC + ": a profile describes bags"),
    FindingCode("PROF-E016", E, "profile {identifier!r} configured for Source-Organization "
                "{organization!r} (profiles.by_organization) is not in profiles.dir; add the "
                "profile file there", "docs/profiles.md: choosing the profile"),
    FindingCode("PROF-E017", E, "serialization is {rule} by profile {profile}: {why}",
                _SPEC + ": Serialization"),
    FindingCode("PROF-E018", E, "the bag is a {kind} archive; profile {profile} accepts only: "
                "{accepted}", _SPEC + ": Accept-Serialization"),
    FindingCode("PROF-W001", W, "the bag names BagIt-Profile-Identifier {identifier!r}, which "
                "is not in profiles.dir; it was not checked against that profile (profiles are "
                "never fetched over the network)", "docs/profiles.md: choosing the profile"),
]

register(*_PROFILE_CODES)
# --- deaccession (preserve.deaccession, issue 16 section 2) ---------------------------------
_DEACCESSION_CODES: list[FindingCode] = [
    FindingCode("DEA-E001", E, "there is no package {package_id!r}; nothing was requested",
                "DESIGN.md Catalog: package ids are unique"),
    FindingCode("DEA-E002", E, "package {package_id} is deaccessioned already; nothing was "
                "requested", "issue 16 section 2: a tombstone stays a tombstone"),
    FindingCode("DEA-E003", E, "package {package_id} has deaccession request {request} open "
                "already: approve or reject it (`preserve deaccession list`)",
                "issue 16 section 2: one open request per package"),
    FindingCode("DEA-E004", E, "request {request} was made by {person}: it must be approved by "
                "another person; nothing was removed",
                "issue 16 section 2: four eyes for every deaccession"),
    FindingCode("DEA-E005", E, "a single version (v{version}) of package {package_id} cannot be "
                "deaccessioned: OCFL versions are immutable, so only the whole package can be "
                "removed; request without --version", "OCFL 1.1 section 3.3: versions are "
                "immutable"),
    FindingCode("DEA-E006", E, "a deaccession request of {package_id} needs a reason (--reason)",
                "PREMIS 3.0 eventDetail: why the package was removed"),
    FindingCode("DEA-E007", E, "there is no deaccession request {request} waiting for its "
                "removal", "issue 16 section 2"),
    FindingCode("DEA-E008", E, "deaccession request {request} is {state}, not waiting for a "
                "decision; nothing was changed", "issue 16 section 2"),
    FindingCode("DEA-E009", E, "package {package_id} was deaccessioned (request {request}): its "
                "content is no longer held; `preserve show {package_id}` shows the tombstone",
                "issue 16 section 2: a deaccessioned package cannot be exported"),
]

register(*_DEACCESSION_CODES)
# --- accounts (preserve.accounts, issue 15) -------------------------------------------------
_ACCOUNT_CODES: list[FindingCode] = [
    FindingCode("ACC-E001", E, "there is an account named {name!r} already; nothing was "
                "changed (`preserve users passwd {name}` sets its password)",
                "issue 15: one account per name"),
    FindingCode("ACC-E002", E, "role {role!r} is not one of viewer, archivist, admin; nothing "
                "was changed", "docs/web.md: roles"),
    FindingCode("ACC-E003", E, "the password is too short: at least {minimum} characters "
                "(a passphrase of several words is easiest); nothing was changed",
                "NIST SP 800-63B section 5.1.1.2: length, not composition rules"),
    FindingCode("ACC-E004", E, "{name!r} cannot be an account name: {why}; nothing was "
                "changed", "docs/web.md: accounts"),
    FindingCode("ACC-E005", E, "there is no account named {name!r}; see `preserve users list`",
                "issue 15: accounts"),
    FindingCode("ACC-E006", E, "wrong account name or password",
                "OWASP Authentication Cheat Sheet: one message for both"),
    FindingCode("ACC-E007", E, "too many failed logins for this account: try again after "
                "{until}", "OWASP Authentication Cheat Sheet: login throttling"),
    FindingCode("ACC-E008", E, "there is no active API token {token}; see `preserve tokens "
                "list`", "issue 15: API tokens"),
    FindingCode("ACC-E009", E, "the two passwords given differ; nothing was changed",
                "issue 15: accounts"),
    FindingCode("ACC-E010", E, "no password on standard input (--password-stdin reads one "
                "line); nothing was changed", "issue 15: accounts"),
]

register(*_ACCOUNT_CODES)


def finding(code: str, path: str = "", **fields: object) -> Finding:
    """Build a Finding for `code`, formatting its template with `fields`."""
    entry = CATALOGUE[code]
    return Finding(
        code=entry.code,
        severity=entry.severity,
        path=path,
        message=entry.template.format(**fields),
    )


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
