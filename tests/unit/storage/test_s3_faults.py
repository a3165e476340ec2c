"""Faults of a real S3 server (the Swift of tests/conftest.py), never a mock: wrong
credentials, a missing bucket, no server, the server killed in the middle of a write, 503
SlowDown answers (through a small loopback proxy in front of Swift), objects changed behind
our back. Each must end in a clear LocationError naming the location, never a secret."""

from __future__ import annotations

import http.client
import http.server
import io
import threading

import boto3
import pytest
from botocore.config import Config

from preserve.storage.location import LocationError, LocationUnreachable, StoredFileMissing

MIB = 1 << 20


def put(location, path: str, data: bytes) -> None:
    location.write(path, io.BytesIO(data), len(data))


def raw_client(server):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=server.access_key,
                        aws_secret_access_key=server.secret_key,
                        config=Config(s3={"addressing_style": "path"},
                                      request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required"))


@pytest.mark.parametrize("access_key, secret_key", [
    ("test:tester", "not-the-secret-Zq7"), ("nobody:nowhere", "not-the-secret-Zq7")],
    ids=["wrong-secret", "unknown-key"])
def test_wrong_credentials_are_a_clear_error_without_the_secret(s3_location, access_key,
                                                                 secret_key):
    good = s3_location("vault-s3")
    bad = s3_location("vault-s3", bucket=good.bucket, access_key=access_key,
                      secret_key=secret_key)
    for action in (bad.probe, lambda: bad.size("x"), lambda: put(bad, "x", b"data"),
                   lambda: list(bad.iter_entries())):
        with pytest.raises(LocationError) as raised:
            action()
        message = str(raised.value)
        assert "'vault-s3'" in message and "refused the credentials" in message
        assert "PRESERVE_LOCATION_VAULT_S3_SECRET_KEY" in message
        assert secret_key not in message and access_key not in message
        assert raised.value.exit_code == 13
    assert good.size("x") is None  # nothing was written with the bad keys


def test_a_missing_bucket_is_named(s3_location):
    location = s3_location("s3", bucket="no-such-bucket-here")
    with pytest.raises(LocationUnreachable, match="the bucket does not exist"):
        location.probe()
    assert location.create_bucket_if_missing() is True
    assert location.create_bucket_if_missing() is False
    location.probe()


def test_no_server_is_unreachable(swift_server):
    from tests.conftest import _load_swift_script
    from preserve.storage.s3 import S3Location

    port = _load_swift_script().free_port()  # nothing listens there
    location = S3Location("gone", endpoint=f"http://127.0.0.1:{port}", bucket="bucket",
                          access_key="a", secret_key="secret-never-shown", max_attempts=2)
    with pytest.raises(LocationUnreachable) as raised:
        location.probe()
    assert "check the endpoint" in str(raised.value)
    assert "secret-never-shown" not in str(raised.value)


class KillingSource(io.RawIOBase):
    """A source that kills the Swift proxy once `at` bytes were read, then goes on giving."""

    def __init__(self, server, size: int, at: int) -> None:
        self.server, self.left, self.at, self.given = server, size, at, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.given >= self.at and "proxy" in self.server.processes:
            self.server.kill("proxy")
        n = min(len(buffer), self.left)
        buffer[:n] = b"k" * n
        self.left -= n
        self.given += n
        return n


@pytest.mark.parametrize("size, at", [(1000, 500), (16 * MIB, 7 * MIB)],
                         ids=["single", "multipart-after-a-part"])
def test_server_killed_during_a_write_leaves_no_object(swift_server, s3_location, size, at):
    location = s3_location("s3", multipart_threshold=5 * MIB, max_attempts=2)
    try:
        with pytest.raises(LocationUnreachable) as raised:
            location.write("obj/v1/content/f", io.BufferedReader(KillingSource(
                swift_server, size, at)), size)
        assert "'s3'" in str(raised.value)
    finally:
        swift_server.restart("proxy")
    assert location.size("obj/v1/content/f") is None
    assert list(location.iter_entries()) == []
    put(location, "obj/v1/content/f", b"again")  # and it works once the server is back
    assert location.size("obj/v1/content/f") == 5


class SlowDownProxy(http.server.ThreadingHTTPServer):
    """A loopback HTTP proxy in front of Swift that answers 503 SlowDown to the first
    `failures` requests and forwards the rest unchanged (Host too, so signatures hold)."""

    daemon_threads = True

    def __init__(self, upstream_port: int, failures: int) -> None:
        self.upstream_port, self.failures, self.requests = upstream_port, failures, 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
            refuse = self.server.requests <= self.server.failures
        if refuse:
            text = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                    b"<Message>Please reduce your request rate.</Message></Error>")
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(b"" if self.command == "HEAD" else text)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data) if self.command != "HEAD"
                                               else answer.getheader("Content-Length", "0")))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


@pytest.fixture
def slow_down(swift_server):
    proxies = []

    def make(failures: int) -> SlowDownProxy:
        proxy = SlowDownProxy(swift_server.ports["proxy"], failures)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.shutdown()
        proxy.server_close()


def test_slow_down_answers_are_retried_with_backoff(s3_location, slow_down):
    bucket = s3_location("s3").bucket
    proxy = slow_down(failures=2)
    location = s3_location("busy", bucket=bucket, endpoint=proxy.endpoint, max_attempts=4)
    put(location, "a/file", b"after two 503s")
    assert proxy.requests >= 3  # two refused, then the PUT (and the HEAD that checks it)
    assert location.size("a/file") == len(b"after two 503s")


def test_slow_down_that_never_ends_is_a_clear_failure_after_bounded_attempts(s3_location,
                                                                             slow_down):
    bucket = s3_location("s3").bucket
    proxy = slow_down(failures=10**6)
    location = s3_location("busy", bucket=bucket, endpoint=proxy.endpoint, max_attempts=3)
    with pytest.raises(LocationUnreachable) as raised:
        put(location, "a/file", b"never stored")
    assert proxy.requests == 3  # bounded: exactly max_attempts, then it gives up
    message = str(raised.value)
    assert "'busy'" in message and "SlowDown" in message and "after 3 attempts" in message


def test_changes_behind_our_back_are_seen(swift_server, s3_location):
    location = s3_location("s3", prefix="ocfl/")
    put(location, "o/v1/content/f", b"original bytes")
    client = raw_client(swift_server)
    client.put_object(Bucket=location.bucket, Key="ocfl/o/v1/content/f", Body=b"tampered!")
    assert location.size("o/v1/content/f") == len(b"tampered!")
    with location.open_read("o/v1/content/f") as stream:
        assert stream.read() == b"tampered!"
    client.delete_object(Bucket=location.bucket, Key="ocfl/o/v1/content/f")
    assert location.size("o/v1/content/f") is None
    with pytest.raises(StoredFileMissing):
        location.open_read("o/v1/content/f")


def test_the_server_killed_during_a_read_is_a_location_error(swift_server, s3_location):
    location = s3_location("s3", max_attempts=1, read_timeout=5)
    data = b"r" * (24 * MIB)
    put(location, "big", data)
    try:
        with pytest.raises(LocationError):
            with location.open_read("big") as stream:
                stream.read(MIB)
                swift_server.kill("proxy")
                swift_server.kill("object")
                while stream.read(MIB):
                    pass
    finally:
        swift_server.restart("object")
        swift_server.restart("proxy")
    assert location.size("big") == len(data)


def test_the_test_server_stops_without_leftovers(swift_server):
    from tests.conftest import _load_swift_script

    server = _load_swift_script().SwiftServer().start()
    directory, processes = server.directory, list(server.processes.values())
    server.stop()
    assert all(p.poll() is not None for p in processes)
    assert not directory.exists()
