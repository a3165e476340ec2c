"""A real S3 server for the tests and benchmarks: OpenStack Swift with s3api on loopback.

Not a mock: the four Swift servers (account, container, object, proxy) run as they do in
production, each in one process (`workers = 0`), with one-replica rings on one device folder
in a temporary directory, `tempauth` users and the `s3api` middleware in the proxy pipeline
(docs/storage-locations.md, "The test server"). Swift comes from its own virtualenv
(`.venv/swift`, made by `make test`) so its pins never touch preserve's dependencies.

    with SwiftServer() as server:          # from Python (tests/conftest.py, benchmarks)
        server.endpoint, server.access_key, server.secret_key
    python scripts/swift_server.py run     # in a terminal, until Ctrl-C
    python scripts/swift_server.py start --dir /tmp/swift     # in the background, then
    python scripts/swift_server.py stop --dir /tmp/swift

Standard library only; it never imports swift itself (the rings are built by the swift
virtualenv's Python with swift's own RingBuilder, the class behind `swift-ring-builder`, in
one process: nine `swift-ring-builder` runs cost 4 s, this 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO / ".venv" / "swift"
SERVERS = ("account", "container", "object", "proxy")
ACCESS_KEY = "test:tester"
SECRET_KEY = "testing"

_RINGS = """
import sys
from swift.common.ring import RingBuilder
swift_dir = sys.argv[1]
for kind, port in zip(("account", "container", "object"), sys.argv[2:]):
    builder = RingBuilder(6, 1, 1)   # 2**6 partitions, 1 replica, min_part_hours 1
    builder.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                     "device": "d1", "weight": 1})
    builder.rebalance()
    builder.save(f"{swift_dir}/{kind}.builder")
    builder.get_ring().save(f"{swift_dir}/{kind}.ring.gz")
"""

_PROXY_PIPELINE = ("catch_errors gatekeeper healthcheck proxy-logging listing_formats s3api "
                   "tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(kind: str, port: int, swift_dir: Path) -> str:
    common = (f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\nworkers = 0\n"
              f"swift_dir = {swift_dir}\ndevices = {swift_dir / 'srv'}\nmount_check = false\n"
              "log_udp_host = 127.0.0.1\nlog_level = WARNING\ndisable_fallocate = true\n\n")
    if kind != "proxy":
        return common + (f"[pipeline:main]\npipeline = {kind}-server\n\n"
                         f"[app:{kind}-server]\nuse = egg:swift#{kind}\n")
    filters = "".join(f"[filter:{name}]\nuse = egg:swift#{name.replace('-', '_')}\n\n"
                      for name in ("catch_errors", "gatekeeper", "healthcheck", "proxy-logging",
                                   "listing_formats", "copy", "slo", "dlo", "versioned_writes",
                                   "symlink"))
    return common + (
        f"[pipeline:main]\npipeline = {_PROXY_PIPELINE}\n\n"
        "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n"
        "[filter:s3api]\nuse = egg:swift#s3api\nlocation = us-east-1\n\n"
        f"[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = {SECRET_KEY} .admin\n\n"
        + filters)


class SwiftServer:
    """Four Swift servers on free loopback ports; `start()`/`stop()` or a context manager."""

    def __init__(self, directory: Path | None = None, venv: Path | None = None,
                 proxy_port: int | None = None) -> None:
        self.venv = Path(venv or os.environ.get("PRESERVE_SWIFT_VENV") or DEFAULT_VENV)
        self._own_directory = directory is None
        self.directory = Path(directory) if directory else None
        self.ports: dict[str, int] = {}
        self._proxy_port = proxy_port
        self.processes: dict[str, subprocess.Popen] = {}
        self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}"

    def installed(self) -> bool:
        return (self.venv / "bin" / "swift-proxy-server").exists()

    def start(self, timeout: float = 30.0) -> SwiftServer:
        if not self.installed():
            raise RuntimeError(f"OpenStack Swift is not installed in {self.venv}: run `make "
                               "test` (it makes .venv/swift) or `python -m venv .venv/swift && "
                               ".venv/swift/bin/pip install swift==2.38.3`")
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="preserve-swift-"))
        (self.directory / "srv" / "d1").mkdir(parents=True, exist_ok=True)
        self.ports = {kind: free_port() for kind in SERVERS[:3]}
        self.ports["proxy"] = self._proxy_port or free_port()
        (self.directory / "swift.conf").write_text(
            "[swift-hash]\nswift_hash_path_suffix = preserve-test\n"
            "swift_hash_path_prefix = preserve-test\n\n"
            "[storage-policy:0]\nname = Policy-0\ndefault = yes\n", "utf-8")
        python = self.venv / "bin" / "python"
        subprocess.run([python, "-c", _RINGS, self.directory,
                        *(str(self.ports[k]) for k in SERVERS[:3])], check=True,
                       cwd=self.directory, capture_output=True)
        for kind in SERVERS:
            self._spawn(kind)
        try:
            self.wait(timeout)
        except BaseException:
            self.stop()
            raise
        self._save_state()
        return self

    def _spawn(self, kind: str) -> None:
        assert self.directory is not None
        conf = self.directory / f"{kind}-server.conf"
        conf.write_text(_config(kind, self.ports[kind], self.directory), "utf-8")
        log = open(self.directory / f"{kind}.log", "ab")  # noqa: SIM115 - the child keeps it
        env = {**os.environ, "SWIFT_CONF_FILE": str(self.directory / "swift.conf")}
        self.processes[kind] = subprocess.Popen(
            [self.venv / "bin" / f"swift-{kind}-server", conf], stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.directory, env=env,
            start_new_session=True)
        log.close()

    def wait(self, timeout: float = 30.0, kinds: tuple[str, ...] = SERVERS) -> None:
        """Until the servers `kinds` accept connections (and the proxy answers /healthcheck)."""
        deadline = time.monotonic() + timeout
        while True:
            dead = [k for k, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"swift {dead[0]} server exited: {self.log_tail(dead[0])}")
            if (all(_accepts(self.ports[kind]) for kind in kinds)
                    and ("proxy" not in kinds or self._healthy())):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"swift did not start within {timeout} s: "
                                   f"{self.log_tail('proxy')}")
            time.sleep(0.05)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/healthcheck", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def log_tail(self, kind: str, lines: int = 20) -> str:
        assert self.directory is not None
        try:
            text = (self.directory / f"{kind}.log").read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def kill(self, kind: str = "proxy") -> None:
        """SIGKILL one server (a crash, for the fault tests); `restart(kind)` brings it back."""
        process = self.processes.pop(kind, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self, kind: str = "proxy", timeout: float = 30.0) -> None:
        self.kill(kind)
        deadline = time.monotonic() + timeout
        while _accepts(self.ports[kind]):  # the old socket may linger a moment
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.ports[kind]} stays busy")
            time.sleep(0.05)
        self._spawn(kind)
        self.wait(timeout, (kind,))

    def stop(self) -> None:
        """Stop every server (SIGTERM, then SIGKILL after 5 s) and remove the directory if
        this object made it."""
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in self.processes.values():
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        if self._own_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def _save_state(self) -> None:
        assert self.directory is not None
        state = {"endpoint": self.endpoint, "ports": self.ports, "access_key": self.access_key,
                 "secret_key": self.secret_key,
                 "pids": {k: p.pid for k, p in self.processes.items()}}
        (self.directory / "state.json").write_text(json.dumps(state, indent=2), "utf-8")

    def __enter__(self) -> SwiftServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_directory(directory: Path) -> None:
    """Stop the servers `start --dir` left running (their pids are in state.json)."""
    state = json.loads((directory / "state.json").read_text("utf-8"))
    for pid in state["pids"].values():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 5
    for pid in state["pids"].values():
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    (directory / "state.json").unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "start", "stop"))
    parser.add_argument("--dir", type=Path, help="where the rings, configs, data and logs go")
    parser.add_argument("--port", type=int, help="the proxy's port (default: a free one)")
    parser.add_argument("--venv", type=Path, help=f"swift's virtualenv (default {DEFAULT_VENV})")
    args = parser.parse_args(argv)
    if args.action == "stop":
        if not args.dir:
            parser.error("stop needs --dir")
        stop_directory(args.dir)
        return 0
    server = SwiftServer(args.dir, args.venv, args.port).start()
    print(f"endpoint {server.endpoint}  access key {server.access_key}  secret key "
          f"{server.secret_key}  (path-style addressing, region us-east-1)", flush=True)
    if args.action == "start":
        if not args.dir:
            print("warning: without --dir, `stop` cannot find these servers", file=sys.stderr)
        server.processes.clear()  # leave them running; `stop --dir` ends them
        return 0
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
