"""Run the real `preserve` CLI with faults installed at named points (tests/faults).

    PRESERVE_FAULTS='[{"point": "write", "match": "*/content/data/*", "nth": 2,
                       "when": "after", "action": "kill"}]' python runner.py --repo R ingest D

Nothing in preserve knows about this: the runner wraps standard-library calls (os.write,
os.rename, os.replace, builtins.open) and module attributes (`call` points, e.g.
`preserve.catalog.eventlog:append`) before it hands over to `preserve.cli.main`, the same
entry point as the console script.

A fault: `point` write | rename | replace | open | call; `match` a glob on the file written
or the rename's target (fnmatch on the absolute path), or `module:attribute.path` for call;
`nth` the matching call that triggers (1 = the first); `when` before | after the real call;
`action` kill (SIGKILL, no clean-up of any kind), enospc / eio (OSError raised instead of
the call), or wait (touch `<barrier>/<name>.reached`, then wait for `<barrier>/<name>.go`).
"""

from __future__ import annotations

import builtins
import errno
import fnmatch
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path

FAULTS_ENV = "PRESERVE_FAULTS"


class Fault:
    def __init__(self, spec: dict) -> None:
        self.point = spec["point"]
        self.match = spec["match"]
        self.nth = int(spec.get("nth", 1))
        self.when = spec.get("when", "before")
        self.action = spec["action"]
        self.barrier = spec.get("barrier")
        self.name = spec.get("name", "fault")
        self.seen = 0

    def hit(self, path: str) -> bool:
        if not fnmatch.fnmatch(path, self.match):
            return False
        self.seen += 1
        return self.seen == self.nth

    def act(self) -> None:
        if self.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(10)  # never reached
        if self.action in ("enospc", "eio"):
            code = errno.ENOSPC if self.action == "enospc" else errno.EIO
            raise OSError(code, os.strerror(code))
        if self.action == "wait":
            barrier = Path(self.barrier)
            (barrier / f"{self.name}.reached").touch()
            deadline = time.monotonic() + 60
            while not (barrier / f"{self.name}.go").exists():
                if time.monotonic() > deadline:
                    raise SystemExit(f"barrier {self.name} never released")
                time.sleep(0.01)
            return
        raise ValueError(f"unknown action {self.action!r}")


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def install(faults: list[Fault]) -> None:
    by_point: dict[str, list[Fault]] = {}
    for fault in faults:
        by_point.setdefault(fault.point, []).append(fault)

    def around(point: str, path: str, call):
        triggered = [f for f in by_point.get(point, ()) if f.hit(path)]
        for f in triggered:
            if f.when == "before":
                f.act()
        result = call()
        for f in triggered:
            if f.when == "after":
                f.act()
        return result

    if "write" in by_point:
        real_write = os.write
        os.write = lambda fd, data: around("write", _fd_path(fd), lambda: real_write(fd, data))
    if "rename" in by_point:
        real_rename = os.rename
        os.rename = lambda src, dst, **kw: around(
            "rename", os.path.abspath(dst), lambda: real_rename(src, dst, **kw))
    if "replace" in by_point:
        real_replace = os.replace
        os.replace = lambda src, dst, **kw: around(
            "replace", os.path.abspath(dst), lambda: real_replace(src, dst, **kw))
    if "open" in by_point:
        real_open = builtins.open

        def open_(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wxa"):
                return around("open", os.path.abspath(file),
                              lambda: real_open(file, mode, *args, **kwargs))
            return real_open(file, mode, *args, **kwargs)

        builtins.open = open_
    for fault in by_point.get("call", ()):
        module_name, _, attribute = fault.match.partition(":")
        owner = importlib.import_module(module_name)
        *parents, name = attribute.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        real = getattr(owner, name)

        def wrapped(*args, _real=real, _fault=fault, **kwargs):
            _fault.seen += 1
            hit = _fault.seen == _fault.nth
            if hit and _fault.when == "before":
                _fault.act()
            result = _real(*args, **kwargs)
            if hit and _fault.when == "after":
                _fault.act()
            return result

        setattr(owner, name, wrapped)


def main() -> None:
    faults = [Fault(spec) for spec in json.loads(os.environ.get(FAULTS_ENV) or "[]")]
    install(faults)
    from preserve.cli import main as preserve_main

    preserve_main(sys.argv[1:])


if __name__ == "__main__":
    main()
