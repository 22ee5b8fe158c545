"""Streaming ``multipart/form-data`` for uploads: parse the client's body as it arrives.

:class:`UploadReader` pulls ASGI ``receive()`` messages only when the consumer asks for
more, so the client's file flows to the upstream at the upstream's pace and the gateway
holds at most a receive chunk or two of it (backpressure, bounded memory). Small form
fields (``purpose``) are kept; the ``file`` part is handed on chunk by chunk.

Every byte of the body counts against the upload limit (plus ``OVERHEAD`` for the
multipart framing and fields), and a form may have at most ``MAX_FIELDS`` fields of at
most ``FIELD_LIMIT`` bytes (python-multipart bounds each part's headers): what the
gateway keeps of a form is bounded whatever its size.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, cast

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from proxy_core.asgi import ClientDisconnected, Receive
from proxy_core.errors import InvalidRequestError, RequestTooLargeError

FIELD_LIMIT = 64 * 1024  # bytes of a non-file form field
MAX_FIELDS = 64  # non-file form fields (OpenAI's uploads use two or three)
OVERHEAD = 1024 * 1024  # what a multipart body may add to the file's own size


@dataclass(slots=True)
class FilePart:
    filename: str
    content_type: str


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequestError(
            "uploads must be multipart/form-data with a 'file' part and a 'purpose' field", param="file"
        )
    return boundary


def too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(
        f"the uploaded file exceeds the gateway's upload limit of {limit} bytes (plugins.files.max_upload_bytes)",
        param="file",
        code="file_too_large",
    )


def check_length(headers: dict[str, str], limit: int) -> None:
    """Refuse at once a body whose Content-Length cannot fit under ``limit``."""
    length = headers.get("content-length")
    if length is None:
        return
    if not length.isdigit():
        raise InvalidRequestError("invalid Content-Length header")
    if int(length) > limit + OVERHEAD:
        raise too_large(limit)


async def raw_body(receive: Receive, limit: int) -> AsyncIterator[bytes]:
    """The client's body as it arrives, refused past ``limit`` (the file limit) plus the
    multipart overhead allowance (passthrough uploads: the body is not parsed)."""
    cap = limit + OVERHEAD
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > cap:
                raise too_large(limit)
            yield chunk
        if not message.get("more_body", False):
            return


class UploadReader:
    """The client's multipart body, parsed on demand: form fields kept, the file streamed."""

    def __init__(self, receive: Receive, boundary: bytes, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.fields: dict[str, str] = {}
        self.file: FilePart | None = None
        self.file_bytes = 0
        self.body_bytes = 0  # the whole body received so far
        self._field_count = 0
        self._file_done = False
        self._ended = False  # the client's body is fully received
        self._complete = False  # the closing boundary was seen
        self._pending: list[bytes] = []  # file data parsed but not yet handed on
        self._part: dict[str, Any] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._value = bytearray()
        self._parser = MultipartParser(boundary, cast("Any", self._callbacks()))

    # --- parser callbacks --------------------------------------------------------

    def _callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._part = {}
        self._value = bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._part = {"name": name, "is_file": name == "file"}
        if name != "file":
            self._field_count += 1
            if self._field_count > MAX_FIELDS:
                raise InvalidRequestError(f"the upload has more than {MAX_FIELDS} form fields", param="file")
            return
        if self.file is not None:
            raise InvalidRequestError("the upload has more than one 'file' part", param="file")
        base = os.path.basename(filename.decode("utf-8", "replace")) if filename else ""
        ctype = self._headers.get("content-type", b"").decode("latin-1").strip()
        self.file = FilePart(base or "upload", ctype or "application/octet-stream")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.get("is_file"):
            self.file_bytes += end - start
            if self.file_bytes > self.limit:
                raise too_large(self.limit)
            self._pending.append(data[start:end])
        else:
            self._value.extend(data[start:end])
            if len(self._value) > FIELD_LIMIT:
                raise InvalidRequestError(f"form field {self._part.get('name')!r} is too long")

    def _part_end(self) -> None:
        if self._part.get("is_file"):
            self._file_done = True
        elif self._part.get("name"):
            self.fields[self._part["name"]] = self._value.decode("utf-8", "replace")

    def _end(self) -> None:
        self._complete = True

    # --- pulling -----------------------------------------------------------------

    async def _pull(self) -> None:
        """Receive one message from the client and parse it."""
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk: bytes = message.get("body", b"")
        if chunk:
            self.body_bytes += len(chunk)
            if self.body_bytes > self.limit + OVERHEAD:
                raise too_large(self.limit)
            try:
                self._parser.write(chunk)
            except MultipartParseError:
                raise InvalidRequestError("the multipart body is malformed", param="file") from None
        if not message.get("more_body", False):
            self._ended = True
            if not self._complete:
                raise InvalidRequestError("the multipart body ended before its closing boundary", param="file")

    async def until_file(self) -> FilePart:
        """Parse up to the start of the file's data; 400 when the body has no file part."""
        while self.file is None and not self._ended:
            await self._pull()
        if self.file is None:
            raise InvalidRequestError("the upload has no 'file' part", param="file")
        return self.file

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, pulled from the client as the consumer asks for them."""
        while True:
            if self._pending:
                pending, self._pending = self._pending, []
                for chunk in pending:
                    yield chunk
                continue
            if self._file_done:
                return
            if self._ended:
                raise InvalidRequestError("the multipart body ended inside the file part", param="file")
            await self._pull()

    async def finish(self) -> None:
        """Read the rest of the body (fields after the file part)."""
        while not self._ended:
            await self._pull()
            self._pending.clear()
