"""Small pure-ASGI helpers: bounded body reading, JSON responses, disconnect watching."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import orjson

from .errors import InvalidRequestError, RequestTooLargeError
from .tasks import spawn

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


class ClientDisconnected(Exception):
    """The client went away while we were reading its request."""


def header_dict(scope: Scope) -> dict[str, str]:
    # ASGI servers lower-case header names; latin-1 is HTTP's byte-preserving decoding.
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def route_path(scope: Scope) -> str:
    """The path below the mount point (Starlette keeps the full path and sets root_path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise InvalidRequestError("invalid Content-Length header")
        if int(length) > limit:
            raise RequestTooLargeError(f"request body exceeds the gateway's limit of {limit} bytes")
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise RequestTooLargeError(f"request body exceeds the gateway's limit of {limit} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def parse_json_object(raw: bytes, max_values: int | None = None) -> dict[str, Any]:
    """The body as a JSON object. ``max_values`` bounds the parse's CPU and memory: a body
    longer than that is first counted (brackets, braces, commas: a C scan, ~2 ms per MiB)
    and refused when it holds more containers and values than allowed."""
    if not raw:
        raise InvalidRequestError("the request body is empty: a JSON object is required")
    if max_values is not None and len(raw) > max_values:
        values = raw.count(b"[") + raw.count(b"{") + raw.count(b",")
        if values > max_values:
            raise InvalidRequestError(
                f"the request body has too many JSON values ({values}); the gateway's limit is {max_values}"
            )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequestError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("the request body must be a JSON object")
    # orjson reads 1,024 levels of nesting but writes 254: a body that could be nested
    # deeper (it has that many containers) must survive being written again upstream.
    if len(raw) > 2 * _MAX_WRITABLE_DEPTH and raw.count(b"[") + raw.count(b"{") > _MAX_WRITABLE_DEPTH:
        try:
            orjson.dumps(data)
        except orjson.JSONEncodeError:
            raise InvalidRequestError(f"the request nests JSON deeper than {_MAX_WRITABLE_DEPTH} levels") from None
    return data


_MAX_WRITABLE_DEPTH = 254


def headers_size(scope: Scope) -> int:
    return sum(len(k) + len(v) for k, v in scope["headers"])


# Bytes kept as they are in a header value: visible ASCII and space, except "%" (the escape).
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def header_value(value: str) -> bytes:
    """A response header value that cannot break the response: values derived from a
    client's JSON (parameter names...) may hold CR/LF, controls or non-Latin-1 text;
    those are percent-encoded (UTF-8), so nothing is lost and nothing is injected."""
    if value.isascii() and value.isprintable():
        return value.encode()
    return quote(value, safe=_HEADER_SAFE).encode()


def _header_name(name: str) -> bytes:
    if name.isascii() and name.isprintable() and " " not in name and ":" not in name:
        return name.encode()
    return quote(name, safe="!#$&'*+-.^_`|~").encode()


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(_header_name(k), header_value(v)) for k, v in headers.items()]


async def send_bytes(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = encode_headers(headers)
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
    await send_bytes(send, status, orjson.dumps(obj), {"content-type": "application/json", **(headers or {})})


def watch_disconnect(receive: Receive, on_disconnect: Callable[[], None]) -> asyncio.Task[None]:
    """Call ``on_disconnect`` when the client goes away. Cancel the task before the final send:
    once a response is complete, servers answer ``receive()`` with a disconnect too."""

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                on_disconnect()
                return

    return spawn(watch(), name="disconnect-watch")
