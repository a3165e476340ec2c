"""Serialized bags (RFC 8493 section 4.2): zip and tar members with `..`, absolute names, links,
duplicates, NUL or control characters, and compression bombs under configurable limits.

Archives are built here with zipfile/tarfile; where those refuse to write a hostile header
(a NUL in a zip name, a lying size), the bytes are patched afterwards."""

from __future__ import annotations

import io
import struct
import tarfile
import unicodedata
import warnings
import zipfile

from tests.adversarial.build import bag as bag_root
from tests.adversarial.build import bag_members
from tests.adversarial.registry import OK, REJECTED, WARNINGS, case

GROUP = "Zip and tar deposits"
_NOTHING = "nothing is extracted: every member is inspected before the first byte is written"


def _zip(extra=(), *, prefix="bag/", patch=None, name="deposit.zip", files=None):
    """A zip of a valid bag plus `extra` members ((ZipInfo or name, bytes) pairs)."""

    def build(ws):
        path = ws.deposits / name
        members = bag_members(ws, prefix=prefix) if files is None else bag_members(ws, files,
                                                                                  prefix)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about duplicate names: wanted here
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for member, data in members:
                    archive.writestr(member, data)
                for info, data in extra:
                    if isinstance(info, str):
                        info = info.format(secret=ws.secret_file, sentinel=ws.sentinel)
                    archive.writestr(info, data.format(secret=ws.secret_file,
                                                       sentinel=ws.sentinel)
                                     if isinstance(data, str) else data)
        if patch is not None:
            path.write_bytes(patch(path.read_bytes(), ws))
        return path

    return build


def _tar(extra=(), *, mode="w", name="deposit.tar", files=None):
    """A tar of a valid bag plus `extra` members (functions of the workspace -> TarInfo, data)."""

    def build(ws):
        path = ws.deposits / name
        with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as archive:
            for member, data in (bag_members(ws) if files is None else bag_members(ws, files)):
                info = tarfile.TarInfo(member)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            for make in extra:
                info, data = make(ws)
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        return path

    return build


def _member(name: str, data: bytes = b"evil\n", **attributes):
    def make(ws):
        info = tarfile.TarInfo(name.format(sentinel=ws.sentinel))
        info.size = len(data) if data is not None else 0
        pax = attributes.pop("pax", None)
        for key, value in attributes.items():
            setattr(info, key, value.format(sentinel=ws.sentinel) if isinstance(value, str)
                    else value)
        if pax:
            info.pax_headers = pax
        return info, data

    return make


def _zip_link(name: str):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return info


def _rename(old: bytes, new: bytes):
    def patch(data: bytes, ws) -> bytes:
        assert data.count(old) == 2  # the local header and the central directory
        return data.replace(old, new)

    return patch


def _lie_about_size(data: bytes, ws) -> bytes:
    """Make the member bag/data/zeros.bin declare 1,000 bytes while it inflates to 3 MiB."""
    out = bytearray(data)
    name = b"bag/data/zeros.bin"
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = 0
        while (pos := out.find(signature, pos)) >= 0:
            if out[pos + name_at:pos + name_at + len(name)] == name:
                out[pos + size_at:pos + size_at + 4] = (1000).to_bytes(4, "little")
            pos += 4
    return bytes(out)


ZEROS = b"\0" * (3 << 20)

# --- zip ---------------------------------------------------------------------------------------
case(id="zip-valid", group=GROUP, attack="control: a valid zip bag in one top-level directory",
     build=_zip(), codes=(), ingest_exit=OK,
     guarantee="a well-formed serialized bag is unpacked in staging and stored")
for _id, _name, _what in (
    ("zip-dotdot", "bag/../../sentinel/evil.txt", "`bag/../../sentinel/evil.txt`"),
    ("zip-absolute", "{sentinel}/evil.txt", "the absolute path of a file in the sentinel "
     "directory"),
    ("zip-backslash", "bag\\..\\..\\evil.txt", "`bag\\..\\..\\evil.txt` (Windows separators)"),
    ("zip-drive", "C:/evil.txt", "`C:/evil.txt`"),
):
    case(id=_id, group=GROUP, attack=f"a zip member named {_what}",
         build=_zip([(_name, "evil\n")]),
         codes=("SER-E002",), ingest_exit=REJECTED, guarantee=_NOTHING)

case(id="zip-symlink", group=GROUP,
     attack="a zip member that is a symlink (Unix mode 0120777) to the sentinel file",
     build=_zip([(_zip_link("bag/data/link"), "{secret}")]), codes=("SER-E003",),
     ingest_exit=REJECTED, guarantee="links in archives are refused, never created")
case(id="zip-duplicate", group=GROUP, attack="the same zip member name twice, other contents",
     build=_zip([("bag/data/page.txt", b"second copy\n")]), codes=("SER-E004",),
     ingest_exit=REJECTED, guarantee="a duplicate can never overwrite an earlier member")
case(id="zip-duplicate-normalised", group=GROUP,
     attack="`bag/data/page.txt` and `bag/./data//page.txt`: equal after dropping `.` and "
            "empty segments",
     build=_zip([("bag/./data//page.txt", b"second copy\n")]), codes=("SER-E004",),
     ingest_exit=REJECTED, guarantee="names are compared as the path they would become")
case(id="zip-file-directory-clash", group=GROUP,
     attack="a member uses the file `bag/data/page.txt` as a directory",
     build=_zip([("bag/data/page.txt/inner.txt", b"x")]), codes=("SER-E004",),
     ingest_exit=REJECTED, guarantee="file/directory clashes are found before writing")
case(id="zip-nul-in-name", group=GROUP,
     attack="a zip member name with a NUL byte (`evil\\x00.txt`; zipfile itself would cut it)",
     build=_zip([("bag/data/evilX.txt", b"x")], patch=_rename(b"evilX.txt", b"evil\x00.txt")),
     codes=("SER-E005",), ingest_exit=REJECTED, names=("bag/data/evil\x00.txt",),
     guarantee="the name as stored in the archive is judged, not a truncated one")
case(id="zip-control-in-name", group=GROUP,
     attack="a zip member name with an ESC sequence",
     build=_zip(files={"\x1b[31mred.txt": b"x"}), codes=("NAME-W002",),
     ingest_exit=WARNINGS, names=("\x1b[31mred.txt",),
     guarantee="control characters in member names are kept with a warning, as in a folder "
               "(an export must come back in), and printed escaped")
case(id="zip-bomb-ratio", group=GROUP,
     attack="a member of 3 MiB of zeros deflated about 1000:1",
     settings={"PRESERVE_MAX_RATIO": "50"}, build=_zip([("bag/data/zeros.bin", ZEROS)]),
     codes=("SER-E007",), ingest_exit=REJECTED,
     guarantee="the compression ratio limit (setting `limits.max_ratio`) is judged from the "
               "headers, before inflating")
case(id="zip-bomb-total", group=GROUP, attack="members adding up to more than the size limit",
     settings={"PRESERVE_MAX_TOTAL_SIZE": "1000000"},
     build=_zip([("bag/data/zeros.bin", ZEROS)]), codes=("SER-E007",), ingest_exit=REJECTED,
     guarantee="the total size limit (setting `limits.max_total_size`) is judged from the "
               "headers")
case(id="zip-bomb-lying-size", group=GROUP,
     attack="a member whose headers declare 1,000 bytes but which inflates to 3 MiB",
     build=_zip([("bag/data/zeros.bin", ZEROS)], patch=_lie_about_size),
     codes=("SER-E009",), ingest_exit=REJECTED,
     guarantee="a member is inflated only up to its declared size; the failed CRC check then "
               "rejects it and nothing is kept")
case(id="zip-members-limit", group=GROUP, attack="more members than allowed",
     settings={"PRESERVE_MAX_MEMBERS": "5"},
     build=_zip([(f"bag/data/{n}.txt", b"x") for n in range(10)]), codes=("SER-E007",),
     ingest_exit=REJECTED, guarantee="the member count limit (`limits.max_members`) holds")
case(id="zip-no-bag", group=GROUP, attack="a zip of two top-level directories, no bag root",
     build=_zip([("other/readme.txt", b"x")]), codes=("SER-E008",), ingest_exit=REJECTED,
     guarantee="an archive is a bag only with bagit.txt at its root or in its one top folder")
case(id="zip-long-name", group=GROUP,
     attack="a zip member whose name has a 300-byte segment (impossible on Linux)",
     build=_zip([("bag/data/" + "ж" * 150, b"x")]), codes=("NAME-E003",),
     ingest_exit=REJECTED, guarantee="over-long names are findings, not an OSError half-way")

_NFC = unicodedata.normalize("NFC", "bag/data/Qoʻlyozma-café.txt")
case(id="zip-names-nfc-nfd", group=GROUP,
     attack="two zip members whose names differ only in Unicode normalization (NFC/NFD)",
     build=_zip([(_NFC, b"composed"), (unicodedata.normalize("NFD", _NFC), b"decomposed")]),
     codes=("NAME-E002",), ingest_exit=REJECTED,
     guarantee="unpacked names get the same collision check as a folder's")

# --- tar ---------------------------------------------------------------------------------------
case(id="tar-valid", group=GROUP, attack="control: a valid tar bag",
     build=_tar(), codes=(), ingest_exit=OK, guarantee="a well-formed tar bag is stored")
case(id="tar-dotdot", group=GROUP, attack="a tar member `bag/../../sentinel/evil.txt`",
     build=_tar([_member("bag/../../sentinel/evil.txt")]), codes=("SER-E002",),
     ingest_exit=REJECTED, guarantee=_NOTHING)
case(id="tar-absolute", group=GROUP,
     attack="a tar member with the absolute name of a file in the sentinel directory",
     build=_tar([_member("{sentinel}/evil.txt")]), codes=("SER-E002",), ingest_exit=REJECTED,
     guarantee=_NOTHING)
case(id="tar-symlink", group=GROUP, attack="a tar symlink member pointing at the sentinel dir",
     build=_tar([_member("bag/data/link", None, type=tarfile.SYMTYPE, linkname="{sentinel}"),
                 _member("bag/data/link/evil.txt")]),
     codes=("SER-E003",), ingest_exit=REJECTED,
     guarantee="no link is created, so no later member can be written through it")
case(id="tar-hardlink", group=GROUP,
     attack="a tar hard-link member to `../../sentinel/secret.txt`",
     build=_tar([_member("bag/data/hard", None, type=tarfile.LNKTYPE,
                         linkname="../../sentinel/secret.txt")]),
     codes=("SER-E003",), ingest_exit=REJECTED, guarantee="hard-link members are refused")
case(id="tar-devices", group=GROUP,
     attack="tar members that are a character device, a block device and a FIFO",
     build=_tar([_member("bag/data/zero", None, type=tarfile.CHRTYPE, devmajor=1, devminor=5),
                 _member("bag/data/disk", None, type=tarfile.BLKTYPE, devmajor=8, devminor=0),
                 _member("bag/data/pipe", None, type=tarfile.FIFOTYPE)]),
     codes=("SER-E003",), ingest_exit=REJECTED, guarantee="no device node or FIFO is created")
case(id="tar-duplicate", group=GROUP, attack="the same tar member twice (the later one wins "
     "in GNU tar)",
     build=_tar([_member("bag/data/page.txt", b"replaced\n")]), codes=("SER-E004",),
     ingest_exit=REJECTED, guarantee="a member can never replace an earlier one")
case(id="tar-nul-in-name", group=GROUP,
     attack="a NUL byte in a tar member's PAX `path`",
     build=_tar([_member("bag/data/x", pax={"path": "bag/data/evil\x00.txt"})]),
     codes=("SER-E005",), ingest_exit=REJECTED, names=("bag/data/evil\x00.txt",),
     guarantee="a NUL never reaches a file system call")
case(id="tar-control-in-name", group=GROUP,
     attack="a tar member name with a bell and an ESC sequence",
     build=_tar(files={"\x07\x1b[2Jx.txt": b"x"}), codes=("NAME-W002",),
     ingest_exit=WARNINGS, names=("\x07\x1b[2Jx.txt",),
     guarantee="control characters in member names are kept with a warning, as in a folder "
               "(an export must come back in), and printed escaped")
case(id="tar-bomb-ratio", group=GROUP, attack="a .tar.gz holding 3 MiB of zeros",
     settings={"PRESERVE_MAX_RATIO": "50"},
     build=_tar([_member("bag/data/zeros.bin", ZEROS)], mode="w:gz", name="deposit.tar.gz"),
     codes=("SER-E007",), ingest_exit=REJECTED,
     guarantee="decompression stops at `limits.max_ratio` times the archive's size")
case(id="tar-bomb-total", group=GROUP, attack="a tar larger than the size limit",
     settings={"PRESERVE_MAX_TOTAL_SIZE": "1000000"},
     build=_tar([_member("bag/data/zeros.bin", ZEROS)]), codes=("SER-E007",),
     ingest_exit=REJECTED, guarantee="`limits.max_total_size` holds for tar as for zip")


def _truncated_tar(ws):
    path = _tar([_member("bag/data/zeros.bin", ZEROS)])(ws)
    path.write_bytes(path.read_bytes()[:1 << 20])
    return path


case(id="tar-truncated", group=GROUP, attack="a tar cut off in the middle of a member",
     build=_truncated_tar, codes=("SER-E001",), ingest_exit=REJECTED,
     guarantee="a truncated archive is a finding; nothing half-extracted is kept")


# --- archives inside the payload: stored as bytes, never unpacked -----------------------------

def _payload_bomb(ws):
    """A bag whose payload holds a 80 KB zip that declares an 80 MiB `[Content_Types].xml`
    (a member siegfried's OOXML container signature would unpack)."""
    buffer = io.BytesIO()
    info = zipfile.ZipInfo("[Content_Types].xml")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w") as archive, archive.open(info, "w") as out:
        chunk = b" " * (1 << 20)
        for _ in range(80):
            out.write(chunk)
    return bag_root(ws, {"report.docx": buffer.getvalue(), "page.txt": b"page one\n"})


def _bomb_stored_unidentified(ws, repo):
    from tests.adversarial.harness import catalog_of

    with catalog_of(repo) as catalog:
        [summary] = catalog.list_packages()
        files = {f.path: f for f in catalog.get_package(summary.package_id).files}
    assert files["data/report.docx"].format is None  # not opened by format identification
    assert files["data/page.txt"].format == "x-fmt/111"


case(id="payload-zip-bomb", group=GROUP,
     attack="a payload file that is a deflate bomb: an 80 KB zip declaring an 80 MiB member "
            "that format identification would unpack",
     build=_payload_bomb, codes=(), ingest_exit=OK, check=_bomb_stored_unidentified,
     guarantee="payload archives are stored byte-exact and never unpacked; format "
               "identification does not open a zip declaring over 1000:1 (it stays unknown)")


def _cfb_loop(ws):
    """A payload OLE2 (Compound File) whose directory sector chain points at itself: a naive
    reader walking the chain (format identification reads OLE2 directories) never ends."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 44, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 76, 0, *[0xFFFFFFFF] * 108)
    fat = struct.pack("<128I", 0xFFFFFFFD, 1, *[0xFFFFFFFF] * 126)  # directory: 1 -> 1 -> ...
    entry = bytearray(128)
    name = "Root Entry".encode("utf-16-le") + b"\0\0"
    entry[0:len(name)] = name
    struct.pack_into("<HBB", entry, 64, len(name), 5, 1)
    struct.pack_into("<IIII", entry, 68, 0xFFFFFFFF, 0xFFFFFFFF, 1, 0)
    directory = bytes(entry) * 4
    return bag_root(ws, {"minutes.doc": bytes(header) + fat + directory,
                         "page.txt": b"page one\n"})


case(id="payload-ole2-cycle", group=GROUP,
     attack="a payload OLE2 (.doc) file whose directory sector chain is a cycle",
     build=_cfb_loop, codes=(), ingest_exit=OK,
     guarantee="payload is stored byte-exact; format identification reads it without "
               "looping (siegfried detects the cycle)")
