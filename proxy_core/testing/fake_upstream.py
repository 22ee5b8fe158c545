"""Fake provider upstreams: real HTTP/1.1 on 127.0.0.1 (h11 over asyncio streams).

A fake records every request (method, path, headers, body), answers from a script of
:class:`Reply` objects (or its kind's default answer), and can misbehave on purpose:
status codes with bodies, delays before headers and between events, a connection reset
mid-stream, a cut without terminator, malformed events, never answering. It notices
when the client closes the connection before the answer is complete.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import orjson

from . import fake_answers


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Reply:
    """One scripted answer. Build with :meth:`json`, :meth:`sse` or :meth:`raw`."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[bytes] | None = None  # SSE: each item written separately
    delay_before: float = 0.0  # seconds before the status line
    delay_between: float = 0.0  # seconds between events
    reset_after: int | None = None  # events sent before a TCP reset
    cut_after: int | None = None  # events sent before a plain close (no terminating chunk)
    stall_after: int | None = None  # events sent before going silent (until the client leaves)
    hang: bool = False  # never answer at all

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None, **kw: Any) -> Reply:
        return cls(status, {"content-type": "application/json", **(headers or {})}, orjson.dumps(obj), **kw)

    @classmethod
    def raw(cls, body: bytes, status: int = 200, content_type: str = "text/plain", **kw: Any) -> Reply:
        return cls(status, {"content-type": content_type}, body, **kw)

    @classmethod
    def sse(cls, events: list[Any], status: int = 200, **kw: Any) -> Reply:
        """``events``: dicts (``data: json``; a dict with "type" also gets ``event: type``),
        ``(event_name, data)`` tuples, the string ``"[DONE]"`` or raw bytes."""
        return cls(status, {"content-type": "text/event-stream"}, events=[encode(e) for e in events], **kw)


def encode(event: Any) -> bytes:
    if isinstance(event, bytes):
        return event
    if event == "[DONE]":
        return b"data: [DONE]\n\n"
    if isinstance(event, tuple):
        name, data = event
        payload: bytes = data if isinstance(data, bytes) else orjson.dumps(data)
        return b"event: " + str(name).encode() + b"\ndata: " + payload + b"\n\n"
    encoded: bytes = orjson.dumps(event)
    if isinstance(event, dict) and "type" in event and "object" not in event:
        return b"event: " + str(event["type"]).encode() + b"\ndata: " + encoded + b"\n\n"
    return b"data: " + encoded + b"\n\n"


@dataclass
class Disconnect:
    path: str
    at: float
    events_sent: int


class FakeUpstream:
    """A fake provider. ``kind`` ("openai" or "anthropic") picks the default answers."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self.disconnects: list[Disconnect] = []
        self._script: deque[Reply | Callable[[RecordedRequest], Reply]] = deque()
        self._server: asyncio.AbstractServer | None = None
        self._cond = threading.Condition()
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.open_connections = 0
        self.connections_accepted = 0  # every connection ever opened: keep-alive reuse shows here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- scripting (call from any thread) ------------------------------------------

    def queue(self, *replies: Reply | Callable[[RecordedRequest], Reply]) -> None:
        """Answer the next requests with these, in order; then the default answers."""
        with self._cond:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._cond:
            self.requests.clear()
            self.disconnects.clear()
            self._script.clear()

    def wait_for_disconnect(self, timeout: float = 2.0) -> Disconnect | None:
        with self._cond:
            self._cond.wait_for(lambda: bool(self.disconnects), timeout)
            return self.disconnects[-1] if self.disconnects else None

    def wait_for_requests(self, n: int, timeout: float = 2.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= n, timeout)

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    # --- server --------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, close the open connections and wait for their handlers, so
        none is left pending (and cancelled noisily) when the loop ends."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=2.0)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self.requests.append(request)
            item = self._script.popleft() if self._script else None
            self._cond.notify_all()
        if item is None:
            return fake_answers.default_reply(self.kind, request)
        return item(request) if callable(item) else item

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        sock = writer.get_extra_info("socket")
        if sock is not None:  # headers and body go out in separate writes: no Nagle stalls
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        self._writers.add(writer)
        self.open_connections += 1
        self.connections_accepted += 1
        try:
            while True:
                request = await _read_request(conn, reader)
                if request is None:
                    return
                reply = self._next_reply(request)
                if not await self._respond(conn, reader, writer, request, reply):
                    return
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError):
            return
        finally:
            self.open_connections -= 1
            self._writers.discard(writer)
            if handler is not None:
                self._handlers.discard(handler)
            writer.close()

    def _client_left(self, path: str, events_sent: int) -> None:
        with self._cond:
            self.disconnects.append(Disconnect(path, time.monotonic(), events_sent))
            self._cond.notify_all()

    async def _respond(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: RecordedRequest,
        reply: Reply,
    ) -> bool:
        """Write the reply; False when the connection is over (closed by either side)."""
        eof = asyncio.ensure_future(reader.read(1))  # the client closing ends this read
        sent = 0
        try:

            async def pause(seconds: float) -> bool:
                """Sleep; False if the client left meanwhile."""
                done, _ = await asyncio.wait({eof}, timeout=seconds)
                return not done

            if reply.hang:
                await eof
                self._client_left(request.path, 0)
                return False
            if reply.delay_before and not await pause(reply.delay_before):
                self._client_left(request.path, 0)
                return False
            headers = list(reply.headers.items())
            if reply.events is None:
                headers.append(("content-length", str(len(reply.body))))
            writer.write(conn.send(h11.Response(status_code=reply.status, headers=headers)))
            if reply.events is None:
                writer.write(conn.send(h11.Data(data=reply.body)) if reply.body else b"")
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                return True
            for i, event in enumerate(reply.events):
                if i == reply.reset_after:
                    _reset(writer)
                    return False
                if i == reply.cut_after:
                    writer.close()
                    return False
                if i == reply.stall_after:
                    await eof
                    self._client_left(request.path, sent)
                    return False
                if i and reply.delay_between and not await pause(reply.delay_between):
                    self._client_left(request.path, sent)
                    return False
                if eof.done():
                    self._client_left(request.path, sent)
                    return False
                writer.write(conn.send(h11.Data(data=event)))
                await writer.drain()
                sent += 1
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            return True
        except ConnectionError:
            self._client_left(request.path, sent)
            return False
        finally:
            await _stop_watching(conn, eof)


async def _stop_watching(conn: h11.Connection, eof: asyncio.Future[bytes]) -> None:
    """End the disconnect watcher before the connection reads its next request.

    A cancelled ``read(1)`` keeps the StreamReader's waiter until its task has run; a
    ``read()`` before that raises "read() called while another coroutine is already
    waiting" and dropped the kept-alive connection after every reply that had waited.
    A byte the watcher did read belongs to the next request.
    """
    if not eof.done():
        eof.cancel()
        await asyncio.wait({eof})
    if not eof.cancelled() and eof.exception() is None and eof.result():
        conn.receive_data(eof.result())


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> RecordedRequest | None:
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data and head is None:
                return None
            continue
        if isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers}
            return RecordedRequest(head.method.decode(), head.target.decode(), headers, bytes(body))
        elif isinstance(event, h11.ConnectionClosed):
            return None


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
