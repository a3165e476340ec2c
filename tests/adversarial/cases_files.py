"""What the payload is made of: symlinks, hard links, FIFOs, devices, sockets, empty files and
payloads, and files that change while they are read (RFC 8493 sections 2.1.2, 7.2)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from tests.adversarial.build import PAGE, bag, folder, manifest_line, retag
from tests.adversarial.registry import OK, REJECTED, WARNINGS, case

GROUP = "Links, special files, empty payloads"
CHANGING = "Files that change while they are ingested"


def _with_entry(make, where: str = "data/entry", *, listed: bool = True):
    """A bag holding one more entry at `where`, made by `make(path, ws)`; optionally listed in
    the payload manifests (with the sentinel's digest) as a depositor's tool would."""

    def build(ws):
        root = bag(ws)
        target = root / where
        if target.exists():
            target.unlink()
        make(target, ws)
        if listed and where.startswith("data/"):
            for algorithm in ("sha256", "sha512"):
                manifest = root / f"manifest-{algorithm}.txt"
                manifest.write_text(manifest.read_text() + manifest_line(
                    where, ws.secret_file.read_bytes(), algorithm))
        return retag(root)

    return build


def _symlink_out(path, ws):
    path.symlink_to(ws.secret_file)


def _symlink_in(path, ws):
    path.symlink_to("page.txt")


def _symlink_dir_out(path, ws):
    path.symlink_to(ws.sentinel, target_is_directory=True)


def _fifo(path, ws):
    os.mkfifo(path)


def _char_device(path, ws):
    os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: endless bytes


def _block_device(path, ws):
    os.mknod(path, 0o644 | stat.S_IFBLK, os.makedev(7, 0))  # /dev/loop0


def _socket(path, ws):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(os.fspath(path))


_SPECIAL = "it is a finding and is never followed or opened (lstat only)"

case(id="symlink-outside", group=GROUP,
     attack="a payload file that is a symlink to the sentinel file outside the bag",
     build=_with_entry(_symlink_out), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee=f"a symlink is not payload: {_SPECIAL}")
case(id="symlink-inside", group=GROUP,
     attack="a payload symlink to another payload file of the same bag",
     build=_with_entry(_symlink_in), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee="bags hold regular files only (RFC 8493 7.2), even links that stay inside")
case(id="symlink-directory-outside", group=GROUP,
     attack="`data/entry` is a symlink to the sentinel directory",
     build=_with_entry(_symlink_dir_out, listed=False), codes=("PAY-E001",),
     ingest_exit=REJECTED, guarantee="a directory symlink is never descended into")
case(id="symlink-tag-file", group=GROUP,
     attack="bag-info.txt is a symlink to the sentinel file",
     build=_with_entry(_symlink_out, "bag-info.txt"), codes=("PAY-E001",),
     ingest_exit=REJECTED, guarantee="tag files are opened with O_NOFOLLOW: never through a link")
case(id="symlink-bagit-txt", group=GROUP,
     attack="bagit.txt is a symlink to the sentinel file",
     build=_with_entry(_symlink_out, "bagit.txt"), codes=("PAY-E001",),
     ingest_exit=REJECTED, guarantee="the declaration is never read through a link")


def _symlink_folder(ws):
    root = folder(ws)
    (root / "escape").symlink_to(ws.sentinel, target_is_directory=True)
    return root


case(id="symlink-in-plain-folder", group=GROUP,
     attack="a plain-folder deposit holding a symlink to the sentinel directory",
     build=_symlink_folder, codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee="plain folders get the same lstat-only listing as bags")

case(id="fifo-payload", group=GROUP, attack="a FIFO (named pipe) among the payload files",
     build=_with_entry(_fifo), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee=f"reading never blocks on a FIFO: {_SPECIAL}")
case(id="fifo-tag-file", group=GROUP, attack="bag-info.txt is a FIFO",
     build=_with_entry(_fifo, "bag-info.txt"), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee="tag files are opened O_NONBLOCK after an lstat: no hang")
case(id="char-device-payload", group=GROUP,
     attack="a character device (major 1, minor 5: an endless source of zeros) in data/",
     build=_with_entry(_char_device), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee=f"devices are never read: {_SPECIAL}")
case(id="block-device-payload", group=GROUP, attack="a block device node in data/",
     build=_with_entry(_block_device), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee=_SPECIAL)
case(id="socket-payload", group=GROUP, attack="a Unix domain socket in data/",
     build=_with_entry(_socket), codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee="a socket is never connected to or opened")


def _deposit_is(make):
    def build(ws):
        path = ws.deposits / "deposit.zip"
        make(path, ws)
        return path

    return build


case(id="deposit-is-fifo", group=GROUP, attack="the deposit path itself is a FIFO",
     build=_deposit_is(_fifo), codes=("BAG-E012",), ingest_exit=REJECTED,
     guarantee="the deposit is stat-ed first; a FIFO is never opened")
case(id="deposit-is-device", group=GROUP,
     attack="the deposit path itself is a character device (endless zeros)",
     build=_deposit_is(_char_device), codes=("BAG-E012",), ingest_exit=REJECTED,
     guarantee="only directories and regular files are read as deposits")


def _hardlink_outside(ws):
    root = bag(ws)
    os.link(ws.secret_file, root / "data" / "linked.txt")
    return _list_file(root, "data/linked.txt")


def _never_read(path_name: str):
    """Install: fail the case if the payload file `path_name` is ever opened for reading."""

    def install(ws, deposit, monkeypatch):
        from preserve import checksums

        real = checksums.open_regular

        def opening(path):
            assert Path(path).name != path_name, f"{path_name} was read"
            return real(path)

        monkeypatch.setattr(checksums, "open_regular", opening)

    return install


def _hardlink_inside(ws):
    root = bag(ws)
    os.link(root / "data" / "page.txt", root / "data" / "same-page.txt")
    return _list_file(root, "data/same-page.txt")


def _list_file(root: Path, rel: str) -> Path:
    data = (root / rel).read_bytes()
    for algorithm in ("sha256", "sha512"):
        manifest = root / f"manifest-{algorithm}.txt"
        manifest.write_text(manifest.read_text() + manifest_line(rel, data, algorithm))
    info = root / "bag-info.txt"
    payload = [p for p in (root / "data").rglob("*") if p.is_file()]
    info.write_text("Source-Organization: Milliy kutubxona\nPayload-Oxum: "
                    f"{sum(p.stat().st_size for p in payload)}.{len(payload)}\n")
    return retag(root)


case(id="hardlink-outside", group=GROUP,
     attack="a payload file hard-linked to the sentinel file outside the deposit",
     build=_hardlink_outside, codes=("PAY-E005",), ingest_exit=REJECTED,
     during=_never_read("linked.txt"),
     guarantee="a file sharing its inode with a file outside the deposit is refused and never "
               "read: its content is not the deposit's own and may change under the ingest")
case(id="hardlink-inside", group=GROUP,
     attack="two payload names hard-linked to each other, both inside the deposit",
     build=_hardlink_inside, codes=("PAY-W002",), ingest_exit=WARNINGS,
     guarantee="links within the deposit are stored as two files (one content file) with a "
               "warning")


def _empty_files(ws):
    return bag(ws, {"empty.txt": b"", "nested/also-empty": b"", **PAGE})


case(id="zero-byte-files", group=GROUP, attack="0-byte payload files, also nested",
     build=_empty_files, codes=(), ingest_exit=OK,
     guarantee="empty files are ordinary payload: stored, listed and checked like any other")


def _empty_payload(ws):
    return bag(ws, {})


case(id="empty-payload", group=GROUP, attack="a bag whose data/ holds nothing",
     build=_empty_payload, codes=("PAY-W001",), ingest_exit=WARNINGS,
     guarantee="an empty payload is stored as such (its metadata) with a warning")


def _no_data_dir(ws):
    root = bag(ws, {})
    (root / "data").rmdir()
    return root


case(id="no-payload-directory", group=GROUP, attack="a bag without data/",
     build=_no_data_dir, codes=("BAG-E011",), ingest_exit=REJECTED,
     guarantee="a bag must have its payload directory (RFC 8493 2.1.2)")


def _empty_folder(ws):
    root = ws.deposits / "empty-folder"
    root.mkdir()
    return root


case(id="empty-folder", group=GROUP, attack="a plain-folder deposit with no files at all",
     build=_empty_folder, codes=("PAY-W001",), ingest_exit=WARNINGS,
     guarantee="an empty folder is stored as an empty package with a warning, never a crash")


# --- changes during the ingest: fault injected at the one place deposit files are opened ------

def _on_open(path_name: str, action):
    """Install: when the payload file `path_name` is opened for its one read, run `action`
    on it first (after the listing), as a depositor still writing would."""

    def install(ws, deposit, monkeypatch):
        from preserve import checksums

        real = checksums.open_regular

        def opening(path):
            if Path(path).name == path_name:
                action(Path(path), ws)
            return real(path)

        monkeypatch.setattr(checksums, "open_regular", opening)

    return install


def _open_then(path_name: str, action):
    """Install: right after the payload file is opened, `action` changes it under the reader."""

    def install(ws, deposit, monkeypatch):
        from preserve import checksums

        real = checksums.open_regular

        def opening(path):
            fd = real(path)
            if Path(path).name == path_name:
                action(Path(path), ws)
            return fd

        monkeypatch.setattr(checksums, "open_regular", opening)

    return install


def _grow(path, ws):
    with open(path, "ab") as handle:
        handle.write(b"written while being read\n")


def _truncate(path, ws):
    os.truncate(path, 2)


def _same_size(path, ws):
    with open(path, "r+b") as handle:
        handle.write(b"P")


def _to_symlink(path, ws):
    path.unlink()
    path.symlink_to(ws.secret_file)


def _to_fifo(path, ws):
    path.unlink()
    os.mkfifo(path)


def _big_bag(ws):
    return bag(ws, {"page.txt": PAGE["page.txt"], "scan.tif": b"\x00" * 300_000})


case(id="grows-while-read", group=CHANGING,
     attack="a payload file grows after it was opened for its one read",
     build=_big_bag, during=_open_then("scan.tif", _grow), mutates_deposit=True,
     codes=("ING-E005",), ingest_exit=REJECTED,
     guarantee="the size read is compared with the size listed; a change rejects the deposit")
case(id="truncated-while-read", group=CHANGING,
     attack="a payload file is truncated after it was opened",
     build=_big_bag, during=_open_then("scan.tif", _truncate), mutates_deposit=True,
     codes=("ING-E005",), ingest_exit=REJECTED, guarantee="a shrinking file is caught the same way")
case(id="rewritten-while-read", group=CHANGING,
     attack="a payload file is rewritten in place (same size) just before its read",
     build=_big_bag, during=_on_open("page.txt", _same_size), mutates_deposit=True,
     codes=("MAN-E010",), ingest_exit=REJECTED,
     guarantee="the digests of the bytes actually read are compared with the manifests")
case(id="swapped-for-symlink", group=CHANGING,
     attack="after the listing, a payload file is replaced by a symlink to the sentinel file",
     build=_big_bag, during=_on_open("page.txt", _to_symlink), mutates_deposit=True,
     codes=("ING-E006",), ingest_exit=REJECTED,
     guarantee="payload files are opened with O_NOFOLLOW: a late symlink is refused, not read")
case(id="swapped-for-fifo", group=CHANGING,
     attack="after the listing, a payload file is replaced by a FIFO",
     build=_big_bag, during=_on_open("page.txt", _to_fifo), mutates_deposit=True,
     codes=("ING-E006",), ingest_exit=REJECTED,
     guarantee="payload files are opened O_NONBLOCK and fstat-ed: a late FIFO cannot hang "
               "the ingest")


def _data_symlink(ws):
    root = bag(ws, {})
    (root / "data").rmdir()
    (root / "data").symlink_to(ws.sentinel, target_is_directory=True)
    return retag(root)


case(id="symlink-data-directory", group=GROUP,
     attack="the payload directory data/ itself is a symlink to the sentinel directory",
     build=_data_symlink, codes=("PAY-E001", "BAG-E011"), ingest_exit=REJECTED,
     guarantee="the payload directory is never entered through a link")


def _many_files(ws):
    return folder(ws, {f"page-{n:02}.txt": b"x" for n in range(12)})


case(id="folder-members-limit", group=GROUP,
     attack="a plain folder with more entries than allowed",
     settings={"PRESERVE_MAX_MEMBERS": "5"}, build=_many_files, codes=("PAY-E004",),
     ingest_exit=REJECTED,
     guarantee="the listing stops at `limits.max_members`: a finding, not a runaway walk")


# A deposit path that does not exist is a usage error (exit 2) and records nothing: the user's
# typo is no deposit attempt (issue 11). tests/cli/test_edges.py covers it.
