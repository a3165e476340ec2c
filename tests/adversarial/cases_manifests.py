"""Manifests and tag manifests that point outside the bag, lie, disagree or repeat themselves;
Payload-Oxum that is malformed or lies (RFC 8493 sections 2.1.3, 2.2.1, 2.2.2, 3, 7.2)."""

from __future__ import annotations

from tests.adversarial.build import PAGE, append, bag, digest, manifest_line, retag
from tests.adversarial.registry import OK, REJECTED, WARNINGS, case

GROUP = "Manifests and Payload-Oxum"


def _payload_entry(path: str):
    """A bag whose manifest-sha256.txt also lists `path` (with the digest of the secret)."""

    def build(ws):
        root = bag(ws)
        append(root / "manifest-sha256.txt", manifest_line(
            path.format(secret=ws.secret_file, sentinel=ws.sentinel),
            ws.secret_file.read_bytes()))
        return retag(root)

    return build


def _tag_entry(path: str):
    def build(ws):
        root = bag(ws)
        append(root / "tagmanifest-sha256.txt", manifest_line(
            path.format(secret=ws.secret_file, sentinel=ws.sentinel),
            ws.secret_file.read_bytes()))
        return root

    return build


_UNSAFE = "a manifest entry naming a path outside the bag is a finding and is never opened"

for _id, _path, _what in (
    ("manifest-dotdot", "data/../../../sentinel/secret.txt", "a `data/../..` path climbing out "
     "to the sentinel file"),
    ("manifest-absolute", "{secret}", "the absolute path of the sentinel file"),
    ("manifest-tilde", "~/secret.txt", "a `~/` home-directory path"),
    ("manifest-backslash", "data\\..\\..\\sentinel\\secret.txt", "a Windows path with "
     "backslashes and `..`"),
    ("manifest-drive", "C:/sentinel/secret.txt", "a Windows drive-letter path"),
    ("manifest-empty-segment", "data//page.txt", "an empty path segment (`data//page.txt`)"),
):
    case(id=_id, group=GROUP, attack=f"`manifest-sha256.txt` lists {_what}",
         build=_payload_entry(_path), codes=("MAN-E006",), ingest_exit=REJECTED,
         guarantee=_UNSAFE)

for _id, _path, _what in (
    ("tagmanifest-dotdot", "../sentinel/secret.txt", "`../sentinel/secret.txt`"),
    ("tagmanifest-absolute", "{secret}", "the absolute path of the sentinel file"),
    ("tagmanifest-tilde", "~root/.bashrc", "`~root/.bashrc`"),
    ("tagmanifest-backslash", "..\\sentinel\\secret.txt", "a backslash path with `..`"),
):
    case(id=_id, group=GROUP, attack=f"`tagmanifest-sha256.txt` lists {_what}",
         build=_tag_entry(_path), codes=("MAN-E006",), ingest_exit=REJECTED,
         guarantee="a tag manifest entry outside the bag is a finding; the file it names is "
                   "never opened or hashed")


def _percent_dotdot(ws):
    root = bag(ws)
    append(root / "manifest-sha256.txt", manifest_line("data/%2e%2e/%2e%2e/sentinel/secret.txt",
                                                       b"x"))
    return retag(root)


case(id="manifest-percent-dotdot", group=GROUP,
     attack="`data/%2e%2e/%2e%2e/…`: `..` percent-encoded in a manifest path",
     build=_percent_dotdot, codes=("MAN-E009",), ingest_exit=REJECTED,
     guarantee="only `%0A`, `%0D` and `%25` are decoded (RFC 8493 2.1.3): the entry is a "
               "literal name that does not exist, never a way out")


def _payload_in_tag_manifest(ws):
    root = bag(ws)
    append(root / "tagmanifest-sha256.txt", manifest_line("data/page.txt", PAGE["page.txt"]))
    return root


case(id="tagmanifest-lists-payload", group=GROUP,
     attack="a tag manifest lists a payload file, a payload manifest a tag file",
     build=lambda ws: _both_areas(_payload_in_tag_manifest(ws)), codes=("MAN-E007",),
     ingest_exit=REJECTED,
     guarantee="each manifest covers only its own area; entries outside it are findings")


def _both_areas(root):
    append(root / "manifest-sha256.txt", manifest_line("bag-info.txt",
                                                       (root / "bag-info.txt").read_bytes()))
    return retag(root)


# --- manifests that disagree, lie, repeat ------------------------------------------------------

def _disagree_digest(ws):
    root = bag(ws)
    path = root / "manifest-sha512.txt"
    path.write_text(path.read_text().replace(digest(PAGE["page.txt"], "sha512"), "0" * 128))
    return retag(root)


case(id="manifests-disagree-digest", group=GROUP,
     attack="`manifest-sha256.txt` is right, `manifest-sha512.txt` gives another digest",
     build=_disagree_digest, codes=("MAN-E010",), ingest_exit=REJECTED,
     guarantee="every payload manifest is checked, not just the strongest or the first")


def _disagree_files(ws):
    root = bag(ws, {"page.txt": PAGE["page.txt"], "extra.txt": b"extra"})
    path = root / "manifest-sha512.txt"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines()
                            if "extra.txt" not in line))
    return retag(root)


case(id="manifests-disagree-files", group=GROUP,
     attack="the sha256 manifest lists two files, the sha512 manifest only one",
     build=_disagree_files, codes=("MAN-E008",), ingest_exit=REJECTED,
     guarantee="every payload file must be in every payload manifest")


def _lying_digest(ws):
    root = bag(ws)
    (root / "data" / "page.txt").write_bytes(b"page 1!\n\n")  # same size, other bytes
    return root


case(id="manifest-lies", group=GROUP,
     attack="a payload file was changed after bagging (same size, other bytes)",
     build=_lying_digest, codes=("MAN-E010",), ingest_exit=REJECTED,
     guarantee="digests are computed from the bytes read and compared with every manifest")


def _duplicate(digests_equal: bool):
    def build(ws):
        root = bag(ws)
        data = PAGE["page.txt"] if digests_equal else b"other"
        append(root / "manifest-sha256.txt", manifest_line("data/page.txt", data))
        return retag(root)

    return build


case(id="manifest-duplicate-entry", group=GROUP,
     attack="the same path listed twice with the same digest",
     build=_duplicate(True), codes=("MAN-E005",), ingest_exit=REJECTED,
     guarantee="a manifest lists each file once")
case(id="manifest-duplicate-conflicting", group=GROUP,
     attack="the same path listed twice with different digests",
     build=_duplicate(False), codes=("MAN-E005",), ingest_exit=REJECTED,
     guarantee="the second, conflicting line is a finding, never silently preferred")


def _unknown_algorithm(name: str):
    def build(ws):
        root = bag(ws)
        (root / f"manifest-{name}.txt").write_text("abcdef  data/page.txt\n")
        return retag(root)

    return build


case(id="manifest-unknown-algorithm", group=GROUP,
     attack="`manifest-rot13.txt`: an algorithm that does not exist",
     build=_unknown_algorithm("rot13"), codes=("MAN-E003",), ingest_exit=REJECTED,
     guarantee="unknown algorithms are findings, never skipped quietly")
case(id="manifest-variable-length-algorithm", group=GROUP,
     attack="`manifest-shake_256.txt`: an algorithm with no fixed digest length",
     build=_unknown_algorithm("shake_256"), codes=("MAN-E003",), ingest_exit=REJECTED,
     guarantee="only fixed-length digests can be compared; others are refused")


def _md5_only(ws):
    return bag(ws, algorithms=("md5",))


case(id="manifest-md5-only", group=GROUP, attack="the only payload manifest is MD5",
     build=_md5_only, codes=("MAN-W001",), ingest_exit=WARNINGS,
     guarantee="a weak-only bag is stored (MD5 verified, sha256 and sha512 added) with a "
               "warning")


def _bad_digest(ws):
    root = bag(ws)
    append(root / "manifest-sha256.txt", "zz" * 32 + "  data/page.txt\n")
    return retag(root)


case(id="manifest-not-hex", group=GROUP, attack="a digest that is not hexadecimal",
     build=_bad_digest, codes=("MAN-E002",), ingest_exit=REJECTED,
     guarantee="garbage lines are findings, never a crash")


def _garbage_lines(ws):
    root = bag(ws)
    append(root / "manifest-sha256.txt", "\x1b[2J\x1b[31m just-one-field\n" + "\u202e" * 3 + "\n")
    return retag(root)


case(id="manifest-garbage-with-escapes", group=GROUP,
     attack="manifest lines of terminal escape sequences and bidi overrides",
     build=_garbage_lines, codes=("MAN-E002",), ingest_exit=REJECTED,
     names=("\x1b[2J\x1b[31m just-one-field",),
     guarantee="the bad line is quoted escaped; no raw control character reaches the terminal")


# --- Payload-Oxum ------------------------------------------------------------------------------

def _oxum(*values: str):
    def build(ws):
        info = [("Source-Organization", "Milliy kutubxona")]
        info += [("Payload-Oxum", value) for value in values]
        return bag(ws, bag_info=info, oxum=False)

    return build


for _id, _values, _code, _what in (
    ("oxum-malformed", ("nine.one",), "BAG-E009", "`Payload-Oxum: nine.one`"),
    ("oxum-negative", ("-9.1",), "BAG-E009", "`Payload-Oxum: -9.1`"),
    ("oxum-repeated", ("9.1", "10.1"), "BAG-E009", "two Payload-Oxum lines that disagree"),
    ("oxum-lies-octets", ("8.1",), "BAG-E010", "Payload-Oxum one octet short"),
    ("oxum-lies-streams", ("9.2",), "BAG-E010", "Payload-Oxum one file too many"),
    ("oxum-huge", ("9" * 400 + ".1",), "BAG-E010", "a 400-digit octet count"),
):
    case(id=_id, group=GROUP, attack=_what, build=_oxum(*_values), codes=(_code,),
         ingest_exit=REJECTED,
         guarantee="Payload-Oxum is parsed strictly and compared with what is there, without "
                   "overflow")

case(id="oxum-right", group=GROUP, attack="control: a correct Payload-Oxum (`9.1`)",
     build=_oxum("9.1"), codes=(), ingest_exit=OK,
     guarantee="a correct bag is stored with no finding")


def _lists_directory(ws):
    root = bag(ws, {"sub/page.txt": PAGE["page.txt"]})
    append(root / "manifest-sha256.txt", manifest_line("data/sub", b""))
    return retag(root)


case(id="manifest-lists-directory", group=GROUP,
     attack="a manifest entry naming a directory (`data/sub`)",
     build=_lists_directory, codes=("MAN-E009",), ingest_exit=REJECTED,
     guarantee="only regular files can satisfy a manifest entry; a directory is never opened "
               "as one")
