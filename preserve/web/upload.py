"""An uploaded deposit (a zip or tar bag), streamed from the request to a staging work
directory with a size limit (issue 15 "Actions": upload a deposit, streamed to staging with
size limits, the same validator as the CLI).

The request body is parsed as it arrives (python-multipart's push parser, RFC 7578), never
held in memory or spooled elsewhere: the file's bytes go straight into
`staging/ingest-<uuid>/`, a work directory locked like an ingest's, so `preserve check`
treats one left by a killed server as any orphaned work directory. Over the limit, the
upload stops at once and the directory is removed. What the archive holds is then decided by
`preserve ingest`, which inspects the archive (zip bombs, links, hostile names) as for a
deposit given on the command line.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from preserve.storage.staging import WorkDir

#: Archive names `preserve ingest` takes (deposit/archive.py decides by the name's end).
SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


class UploadRefused(Exception):
    """The upload cannot be taken; `status` is the HTTP status, `reason` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Upload:
    """An uploaded file in its own work directory, and the form's other fields."""

    work: WorkDir
    path: Path | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


def safe_name(name: str) -> str:
    """The uploaded file's own name, kept byte-exact where it can be a file name: the last
    path segment, no NUL or control characters; else `deposit` with its archive suffix."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    lowered = base.lower()
    suffix = next((s for s in SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        raise UploadRefused(415, f"{base!r} is not a zip or tar archive ({', '.join(SUFFIXES)})")
    if (base in ("", ".", "..") or len(base.encode("utf-8")) > 200
            or any(unicodedata.category(c) == "Cc" for c in base)):
        return "deposit" + suffix
    return base


async def receive(request: Request, staging: Path, limit: int) -> Upload:
    """Stream the multipart body of `request` into a new work directory; the file part is
    named `deposit`. Raises UploadRefused (and leaves nothing behind) when it cannot."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise UploadRefused(415, "send the deposit as multipart/form-data (field 'deposit')")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise UploadRefused(413, f"the upload is larger than the limit of {limit} bytes")
    upload = Upload(work=WorkDir.create(staging))
    parts = _Parts(upload, limit)
    parser = MultipartParser(options[b"boundary"], {
        "on_part_begin": parts.on_part_begin, "on_header_field": parts.on_header_field,
        "on_header_value": parts.on_header_value, "on_header_end": parts.on_header_end,
        "on_headers_finished": parts.on_headers_finished, "on_part_data": parts.on_part_data,
        "on_part_end": parts.on_part_end})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if upload.path is None:
            raise UploadRefused(400, "no file in the field 'deposit'")
    except BaseException as exc:
        parts.close()
        upload.work.remove()
        if isinstance(exc, UploadRefused):
            raise
        if isinstance(exc, Exception):  # a malformed body
            raise UploadRefused(400, f"the upload could not be read: {exc}") from None
        raise
    return upload


class _Parts:
    """The parser's callbacks: the `deposit` file part written to disk as it comes, the
    other (small) fields kept as text."""

    def __init__(self, upload: Upload, limit: int) -> None:
        self.upload, self.limit = upload, limit
        self.headers: dict[bytes, bytes] = {}
        self.header = b""
        self.name = ""
        self.value = bytearray()
        self.handle: int | None = None

    def on_part_begin(self) -> None:
        self.headers, self.value, self.name = {}, bytearray(), ""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self.header.lower()
        self.headers[key] = self.headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.header = b""

    def on_headers_finished(self) -> None:
        _, disposition = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            if self.name != "deposit" or self.upload.path is not None:
                raise UploadRefused(400, "one file, in the field 'deposit'")
            filename = disposition[b"filename"].decode("utf-8", "replace")
            self.upload.path = self.upload.work.path / safe_name(filename)
            self.handle = os.open(self.upload.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.handle is not None:
            self.upload.size += len(chunk)
            if self.upload.size > self.limit:
                raise UploadRefused(413, f"the upload is larger than the limit of "
                                         f"{self.limit} bytes")
            view = memoryview(chunk)
            while view:
                view = view[os.write(self.handle, view):]
        else:
            if len(self.value) + len(chunk) > 4096:
                raise UploadRefused(400, "a form field is too long")
            self.value.extend(chunk)

    def on_part_end(self) -> None:
        if self.handle is not None:
            os.fsync(self.handle)
            self.close()
        elif self.name:
            self.upload.fields[self.name] = self.value.decode("utf-8", "replace")

    def close(self) -> None:
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None
