"""What every adversarial case runs in: a workspace, and guards that catch what must not happen.

* `Workspace`: the test's directories: `deposits/` (where a case builds its hostile deposit),
  `sentinel/` (outside the deposit: a secret file that links and external entities point at),
  `tmp/` (TMPDIR while commands run), and a local TCP listener whose URL hostile XML names.
* `Guard`: while a command runs, a process-wide audit hook (PEP 578) records every file the
  process opens or lists and refuses every socket connection or name lookup; a thread accepts
  (and counts) connections to the listener, which also catches C- or Go-level clients that
  bypass Python's socket module; SIGALRM turns a hang into a test failure.
* `snapshot`: every path under a directory with lstat only (bytes of regular files, targets of
  symlinks, mode and device numbers of the rest), so a FIFO or a device is never opened.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import sqlite3
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds one command may take before it counts as a hang.
HANG_SECONDS = 30

_NETWORK_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                             "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg"})
_LISTING_EVENTS = frozenset({"os.scandir", "os.listdir"})


@dataclass
class _Recorder:
    """State shared with the audit hook; `active` is None outside a guarded command."""

    active: Guard | None = None


_RECORDER = _Recorder()
_HOOK_INSTALLED = False


def _hook(event: str, args: tuple) -> None:
    guard = _RECORDER.active
    if guard is None:
        return
    if event in _NETWORK_EVENTS:
        guard.network.append(f"{event} {args!r}")
        raise PermissionError(f"adversarial suite: network access refused ({event})")
    if event == "open" or event in _LISTING_EVENTS:
        target = args[0] if args else None
        if isinstance(target, (str, bytes, os.PathLike)):
            guard.touched.append(os.path.abspath(os.fsdecode(target)))


def _install_hook() -> None:
    global _HOOK_INSTALLED
    if not _HOOK_INSTALLED:  # audit hooks cannot be removed: install once, gate by `active`
        sys.addaudithook(_hook)
        _HOOK_INSTALLED = True


class Listener:
    """A local TCP server that accepts and closes every connection, counting them."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._probes: set[tuple[str, int]] = set()
        self._probe_seen = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="adversarial-listener",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/secret.txt"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            connection.close()
            with self._probe_seen:
                if peer in self._probes:
                    self._probes.discard(peer)
                    self._probe_seen.notify_all()
                else:
                    self.accepted += 1

    def settle(self) -> int:
        """Connections accepted so far, counting every one made before this call: a probe
        connection is made and waited for; the backlog is first in, first out."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))  # known before connecting, so never miscounted
            peer = probe.getsockname()
            with self._probe_seen:
                self._probes.add(peer)
            probe.settimeout(5)
            probe.connect(("127.0.0.1", self.port))
            with self._probe_seen:
                if not self._probe_seen.wait_for(lambda: peer not in self._probes, timeout=5):
                    raise TimeoutError("the listener did not accept the probe")
        return self.accepted

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@dataclass
class Workspace:
    root: Path
    listener: Listener
    secret: str = field(default_factory=lambda: "SENTINEL-" + secrets.token_hex(16))

    def __post_init__(self) -> None:
        for name in ("deposits", "sentinel", "tmp"):
            (self.root / name).mkdir()
        self.secret_file.write_text(self.secret + "\n", encoding="ascii")

    @property
    def deposits(self) -> Path:
        return self.root / "deposits"

    @property
    def sentinel(self) -> Path:
        return self.root / "sentinel"

    @property
    def secret_file(self) -> Path:
        return self.sentinel / "secret.txt"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def url(self) -> str:
        return self.listener.url


@dataclass
class Guard:
    """What one guarded stretch saw: files opened or listed, network attempts."""

    touched: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)


def _on_alarm(signum, frame):  # noqa: ARG001
    raise TimeoutError(f"a command ran longer than {HANG_SECONDS} s: it hangs")


@contextmanager
def guarded() -> Iterator[Guard]:
    """Record opens, refuse network access and fail on a hang while the block runs."""
    _install_hook()
    guard = Guard()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_SECONDS)
    _RECORDER.active = guard
    try:
        yield guard
    finally:
        _RECORDER.active = None
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(root: Path, skip: frozenset[str] = frozenset()) -> dict[str, object]:
    """{relative path: what is there} for every entry below `root`, without following or
    opening anything but regular files; `skip` names relative paths (and their subtrees) left
    out. Directory descriptors, not paths, so trees deeper than PATH_MAX are seen too."""
    result: dict[str, object] = {}
    if not os.path.lexists(root):
        return result
    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        _snapshot_dir(top, "", skip, result)
    finally:
        os.close(top)
    return result


def _snapshot_dir(fd: int, rel: str, skip: frozenset[str], result: dict[str, object]) -> None:
    with os.scandir(fd) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        if path in skip:
            continue
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            result[path] = ("dir", stat.S_IMODE(info.st_mode))
            child = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            try:
                _snapshot_dir(child, path, skip, result)
            finally:
                os.close(child)
        elif stat.S_ISREG(info.st_mode):
            handle = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
            with open(handle, "rb") as reader:
                result[path] = ("file", info.st_ino, reader.read())
        elif stat.S_ISLNK(info.st_mode):
            result[path] = ("link", os.readlink(entry.name, dir_fd=fd))
        else:
            result[path] = ("special", info.st_mode, info.st_rdev)


def copy_repo(template: Path, home: Path) -> Path:
    """A repository home copied from an initialised one, its storage location (the only
    absolute path init records in the catalog) pointed at the copy's own storage root."""
    shutil.copytree(template, home, symlinks=True)
    with closing(sqlite3.connect(home / "catalog.sqlite")) as connection, connection:
        connection.execute("UPDATE locations SET uri = ?",
                           ((home / "ocfl").absolute().as_uri(),))
    return home


def catalog_of(repo: Path):
    """The repository's catalog (SQLite in the home), for assertions on rows."""
    from preserve.catalog import Catalog, sqlite_url

    return Catalog(sqlite_url(repo / "catalog.sqlite"))


def contains(root: Path, needle: bytes) -> list[str]:
    """Regular files below `root` whose bytes contain `needle` (symlinks are not followed)."""
    found = []
    for path, value in snapshot(root).items():
        if isinstance(value, tuple) and value[0] == "file" and needle in value[2]:
            found.append(path)
    return found
