"""A storage location in an S3-compatible bucket (`kind = "s3"`): AWS S3, Ceph RGW, MinIO,
OpenStack Swift with s3api.

The OCFL storage root is the bucket's keys under `prefix`: a stored file's relative path
(OCFL 1.1 section 4, extension 0004) is its key after the prefix, byte for byte, so any OCFL
tool that reads S3 reads the same tree. A PUT is atomic (a reader sees the old object or the
whole new one), so `write` needs no temporary name: small files go in one PUT with a
Content-MD5 the server checks (and whose ETag must be that MD5); large ones in a multipart
upload (each part with its Content-MD5) that is completed only once every byte came, and
aborted otherwise, so a failed write leaves no object; its stored size is checked with a HEAD.

Addressing is path style (`endpoint/bucket/key`), which every S3-compatible server accepts.
Checksums are sent only where the API requires them: boto3 >= 1.36 otherwise adds CRC
headers that servers other than AWS may reject. Retries are botocore's "standard" mode
(exponential backoff with jitter, bounded attempts); what is still failing after them becomes
a `LocationError` naming the location and what to do, never a botocore exception and never a
credential.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
import botocore.exceptions
from botocore.config import Config

from preserve.storage.location import (
    Location,
    LocationError,
    LocationUnreachable,
    StoredEntry,
    StoredFileMissing,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

log = logging.getLogger(__name__)

_PROBE_NAME = ".preserve-probe"
#: Files up to this size go in one PUT, read into memory first; larger ones in a multipart
#: upload of parts this size (S3 allows at most 10,000 parts). On Swift an 18 MiB file took
#: 0.42 s as two parts and 0.15 s as one PUT: completing a multipart upload is costly.
MULTIPART_THRESHOLD = 64 << 20
#: Writes of more than _SMALL bytes hold at most this many bytes of buffers at once (a write
#: waits for room), so memory stays under 256 MiB however many threads write, while as many
#: files of a few MiB as there are threads go at once (a count of 4 buffers kept 16 MiB
#: images four at a time).
_LARGE_BUDGET = 256 << 20
_SMALL = 4 << 20
_MAX_PARTS = 10_000
_READ_BLOCK = 1 << 20

_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied",
                     "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed",
                     "InvalidSecurity", "Forbidden", "403"}
_BUSY_CODES = {"SlowDown", "ServiceUnavailable", "503", "500", "502", "504", "InternalError",
               "RequestTimeout", "Throttling", "ThrottlingException", "RequestLimitExceeded"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


def credential_variables(name: str) -> tuple[str, str]:
    """The environment variables that hold a location's keys (docs/storage-locations.md)."""
    stem = "".join(c if c.isalnum() else "_" for c in name).upper()
    return f"PRESERVE_LOCATION_{stem}_ACCESS_KEY", f"PRESERVE_LOCATION_{stem}_SECRET_KEY"


class S3Location(Location):
    """An OCFL storage root under `prefix` in `bucket` at `endpoint` (None: AWS's own)."""

    kind = "s3"

    def __init__(self, name: str, *, endpoint: str | None, bucket: str, prefix: str = "",
                 region: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, max_attempts: int = 5,
                 connect_timeout: float = 10.0, read_timeout: float = 60.0,
                 max_connections: int = 32,
                 multipart_threshold: int = MULTIPART_THRESHOLD) -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if prefix.startswith("/"):
            raise ValueError(f"an S3 prefix does not start with '/': {prefix!r}")
        self.name = name
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.multipart_threshold = multipart_threshold
        self.max_attempts = max_attempts
        # Kept out of repr and messages; only boto3 sees them.
        self._keys = (access_key, secret_key)
        self._config = Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            max_pool_connections=max_connections, tcp_keepalive=True)
        self._client = None
        self._lock = threading.Lock()
        self._large = _Budget(_LARGE_BUDGET)

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}"
        return f"{where} at {self.endpoint}" if self.endpoint else where

    @property
    def client(self) -> Any:
        """One boto3 client per location (thread-safe once made), made on first use: loading
        botocore's service model takes a tenth of a second."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    access, secret = self._keys
                    session = boto3.session.Session()
                    self._client = session.client(
                        "s3", endpoint_url=self.endpoint, region_name=self.region or "us-east-1",
                        aws_access_key_id=access, aws_secret_access_key=secret,
                        config=self._config)
        return self._client

    def _key(self, path: str) -> str:
        parts = path.split("/")
        if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a relative storage path: {path!r}")
        return self.prefix + path

    # --- errors ----------------------------------------------------------------------------

    def _error(self, exc: Exception, what: str, path: str | None = None) -> LocationError:
        """`exc` from botocore/urllib3 as a LocationError saying what to do; never a secret."""
        where = f"{what} (bucket {self.bucket!r}, {self.describe()})"
        if isinstance(exc, botocore.exceptions.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket" or (code == "404" and path is None):
                return LocationUnreachable(
                    location=self.name, detail=f"{where}: the bucket does not exist; create it "
                    "(`preserve locations add` offers to) or fix the bucket name")
            if code in _MISSING_CODES and path is not None:
                return StoredFileMissing(location=self.name, path=path,
                                         detail=f"(no object {self.prefix + path!r})")
            if code in _CREDENTIAL_CODES or status == 403:
                access, secret = credential_variables(self.name)
                return LocationError(
                    location=self.name, detail=f"{where}: the server refused the credentials "
                    f"({code or status}); check {access} and {secret} (or boto3's credential "
                    "chain) and that the key may read and write this bucket")
            if code in _BUSY_CODES or (status or 0) >= 500:
                return LocationUnreachable(
                    location=self.name, detail=f"{where}: the server kept answering "
                    f"{code or status} after {self.max_attempts} attempts with backoff; it is "
                    "overloaded or failing: try again later")
            return LocationError(location=self.name,
                                 detail=f"{where}: {code or status}: {error.get('Message', '')}")
        if isinstance(exc, botocore.exceptions.NoCredentialsError |
                      botocore.exceptions.PartialCredentialsError):
            access, secret = credential_variables(self.name)
            return LocationError(location=self.name, detail=f"{where}: no credentials; set "
                                 f"{access} and {secret}, or configure boto3's credential chain")
        if isinstance(exc, botocore.exceptions.BotoCoreError | OSError):
            # connection refused or reset, timeouts, a body cut short: the server went away
            return LocationUnreachable(
                location=self.name, detail=f"{where}: {type(exc).__name__}: "
                f"{_scrub(str(exc), self._keys)}; check the endpoint and that the server runs")
        raise exc

    def _call(self, what: str, function: Callable[..., Any], /, *, path: str | None = None,
              **kwargs: Any) -> Any:
        try:
            return function(**kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                OSError) as exc:
            raise self._error(exc, what, path) from None

    # --- the interface ---------------------------------------------------------------------

    def probe(self) -> None:
        self._call("checking the bucket", self.client.head_bucket, Bucket=self.bucket)
        key = f"{self.prefix}{_PROBE_NAME}-{uuid.uuid4().hex}"
        data = b"probe"
        try:
            self._call("writing a probe object", self.client.put_object, Bucket=self.bucket,
                       Key=key, Body=data, ContentMD5=_md5(data))
            answer = self._call("reading the probe object back", self.client.get_object,
                                Bucket=self.bucket, Key=key)
            if answer["Body"].read() != data:
                raise LocationUnreachable(location=self.name,
                                          detail=f"the probe object {key!r} did not read back "
                                          "as written")
        finally:
            self._call("removing the probe object", self.client.delete_object,
                       Bucket=self.bucket, Key=key)

    def create_bucket_if_missing(self) -> bool:
        """Create the bucket unless it exists (for `preserve locations add`); True if made."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise self._error(exc, "checking the bucket") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error(exc, "checking the bucket") from None
        extra: dict[str, Any] = {}
        if self.region and self.region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self._call("creating the bucket", self.client.create_bucket, Bucket=self.bucket, **extra)
        log.info("created bucket %s at %s", self.bucket, self.endpoint or "AWS")
        return True

    def open_read(self, path: str) -> io.BufferedIOBase:
        answer = self._call(f"reading {path}", self.client.get_object, path=path,
                            Bucket=self.bucket, Key=self._key(path))
        # a small buffer: reads of a block or more go straight to the body, uncopied
        return io.BufferedReader(_Body(self, path, answer["Body"]), 64 << 10)

    def size(self, path: str) -> int | None:
        try:
            return int(self._call(f"checking {path}", self.client.head_object, path=path,
                                  Bucket=self.bucket, Key=self._key(path))["ContentLength"])
        except StoredFileMissing:
            return None

    def iter_entries(self, prefix: str = "") -> Iterator[StoredEntry]:
        if prefix and not prefix.endswith("/"):
            raise ValueError("iter_entries takes a directory path ending in '/'")
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        cut = len(self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    path = item["Key"][cut:]
                    if path.startswith(_PROBE_NAME) or path.endswith("/"):
                        continue  # our probe; a "folder" marker some S3 consoles create
                    yield StoredEntry(path, item["Size"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                OSError) as exc:
            raise self._error(exc, f"listing {prefix or 'the root'}") from None

    def write(self, path: str, source: BinaryIO, size: int) -> None:
        key = self._key(path)
        if size <= _SMALL:
            self._write(path, key, source, size)
        else:
            with self._large.hold(min(size, self.multipart_threshold)):
                self._write(path, key, source, size)

    def _write(self, path: str, key: str, source: BinaryIO, size: int) -> None:
        if size <= self.multipart_threshold:
            data = _read_exactly(source, size, lambda got: self._short(path, size, got))
            md5 = hashlib.md5(data, usedforsecurity=False)
            answer = self._call(f"writing {path}", self.client.put_object, Bucket=self.bucket,
                                Key=key, Body=data, ContentLength=size,
                                ContentMD5=base64.b64encode(md5.digest()).decode("ascii"))
            if answer.get("ETag", "").strip('"') == md5.hexdigest():
                return  # the server stored exactly these bytes (a plain PUT's ETag is their MD5)
        else:
            self._write_multipart(path, key, source, size)
        # A multipart ETag is no MD5 of the object (nor, with some encryption, a PUT's): HEAD.
        stored = self.size(path)
        if stored != size:
            raise LocationError(location=self.name, detail=f"{path} was stored with "
                                f"{stored} bytes instead of {size}; write it again")

    def _short(self, path: str, size: int, got: int | None) -> LocationError:
        said = "more" if got is None else str(got)
        return LocationError(location=self.name, detail=f"{path}: expected {size} bytes, the "
                             f"source gave {said}; nothing was stored")

    def _write_multipart(self, path: str, key: str, source: BinaryIO, size: int) -> None:
        part_size = max(self.multipart_threshold, -(-size // _MAX_PARTS))
        upload = self._call(f"starting the upload of {path}", self.client.create_multipart_upload,
                            Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            done = 0
            while done < size:
                want = min(part_size, size - done)
                data = _read_exactly(source, want, lambda got: self._short(
                    path, size, None if got is None else done + got), last=done + want == size)
                answer = self._call(f"writing {path}", self.client.upload_part,
                                    Bucket=self.bucket, Key=key, UploadId=upload,
                                    PartNumber=len(parts) + 1, Body=data, ContentMD5=_md5(data))
                parts.append({"PartNumber": len(parts) + 1, "ETag": answer["ETag"]})
                done += want
            self._call(f"completing the upload of {path}", self.client.complete_multipart_upload,
                       Bucket=self.bucket, Key=key, UploadId=upload,
                       MultipartUpload={"Parts": parts})
        except BaseException:
            # Nothing becomes visible; an abort that fails too leaves parts for the bucket's
            # lifecycle rule (docs/storage-locations.md), never an object.
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, OSError):
                log.warning("could not abort the multipart upload of %s in %s", path, self.name)
            raise

    def remove(self, path: str) -> None:
        self._call(f"removing {path}", self.client.delete_object, Bucket=self.bucket,
                   Key=self._key(path))


class _Budget:
    """Bytes of buffer shared by the writing threads: `hold(n)` waits until n are free."""

    def __init__(self, total: int) -> None:
        self._total = self._free = total
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def hold(self, wanted: int) -> Iterator[None]:
        wanted = min(wanted, self._total)
        with self._changed:
            self._changed.wait_for(lambda: self._free >= wanted)
            self._free -= wanted
        try:
            yield
        finally:
            with self._changed:
                self._free += wanted
                self._changed.notify_all()


class _Body(io.RawIOBase):
    """A GET's streaming body as a raw stream whose failures are LocationErrors."""

    def __init__(self, location: S3Location, path: str, body: Any) -> None:
        self._location, self._path, self._body = location, path, body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except (botocore.exceptions.BotoCoreError, OSError) as exc:
            # urllib3's errors are OSErrors or wrapped by botocore (IncompleteRead, timeouts)
            raise self._location._error(exc, f"reading {self._path}") from None
        except Exception as exc:
            if type(exc).__module__.startswith("urllib3"):
                raise self._location._error(OSError(str(exc)), f"reading {self._path}") from None
            raise
        n = len(data)
        view[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _read_exactly(source: BinaryIO, size: int, error: Callable[[int | None], Exception],
                  last: bool = True) -> bytes:
    """`size` bytes from `source`; `error(got)` if it ends early, `error(None)` if the source
    has more after the last part."""
    chunks, got = [], 0
    while got < size:
        chunk = source.read(min(_READ_BLOCK, size - got))
        if not chunk:
            raise error(got)
        chunks.append(chunk)
        got += len(chunk)
    if last and source.read(1):
        raise error(None)
    return b"".join(chunks)


def _md5(data: bytes) -> str:
    # Content-MD5 makes the server reject a body damaged on the way (RFC 1864); not a fixity
    # algorithm of ours.
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def _scrub(text: str, keys: tuple[str | None, str | None]) -> str:
    for key in keys:
        if key:
            text = text.replace(key, "***")
    return text
