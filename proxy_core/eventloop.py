"""The event loop of served workers: uvloop, accepting every waiting connection at once.

libuv (1.45 and later, inside uvloop) accepts one connection per loop iteration. A worker
busy with hundreds of requests iterates a few dozen times a second, so connections
opened while it was busy waited in the kernel's accept queue for seconds (measured with
``ss -ltn``: 300 of 500 new connections queued, draining ~35 per second; p99 5 s against
a p50 of 66 ms). asyncio's own loop accepts up to the backlog per wake-up but costs ~13 %
more CPU per request. This loop keeps uvloop and serves plain TCP listeners itself: each
wake-up of a listening socket accepts until its queue is empty (at most ``ACCEPT_BATCH``)
and hands every connection to uvloop. TLS and Unix-socket servers keep uvloop's own.

Used by ``proxy-core serve`` through uvicorn's ``loop`` setting
(``proxy_core.eventloop:EagerAcceptLoop``: uvicorn calls it to make the loop).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable
from typing import Any

import structlog
import uvloop

from .tasks import spawn

log = structlog.get_logger("proxy_core.eventloop")

ACCEPT_BATCH = 1024
# Running out of descriptors or memory: stop accepting for a moment (as asyncio does).
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_RESOURCE_PAUSE_S = 1.0


class EagerAcceptLoop(uvloop.Loop):
    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **kwargs: Any,
    ) -> Any:
        if ssl is not None or kwargs or (sock is not None and sock.family not in (socket.AF_INET, socket.AF_INET6)):
            plain: Any = super().create_server  # uvloop's stubs type only some overloads
            return await plain(protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **kwargs)
        sockets = [sock] if sock is not None else _bind(host, port)
        for listener in sockets:
            listener.listen(backlog)
        return EagerAcceptServer(self, protocol_factory, sockets)


def _bind(host: str | None, port: int | None) -> list[socket.socket]:
    """Listening sockets for every address of ``host``, as asyncio's create_server binds."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            listener = socket.socket(family, kind, proto)
            sockets.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind(address)
    except BaseException:
        for listener in sockets:
            listener.close()
        raise
    return sockets


class EagerAcceptServer:
    """The part of ``asyncio.Server`` uvicorn uses: ``sockets``, ``close``, ``wait_closed``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, protocol_factory: Callable[[], Any], sockets: list[socket.socket]
    ) -> None:
        self._loop = loop
        self._protocol_factory = protocol_factory
        self.sockets = sockets
        self._closed = loop.create_future()
        for listener in sockets:
            listener.setblocking(False)
            loop.add_reader(listener.fileno(), self._accept, listener)

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up before it was accepted
            except OSError as e:
                if e.errno not in _RESOURCE_ERRORS:
                    raise
                log.error("server.accept_paused", error=e.strerror, pause_s=_RESOURCE_PAUSE_S)
                self._loop.remove_reader(listener.fileno())
                self._loop.call_later(_RESOURCE_PAUSE_S, self._resume, listener)
                return
            conn.setblocking(False)
            spawn(self._serve(conn), name="accepted-connection")

    def _resume(self, listener: socket.socket) -> None:
        if not self._closed.done():
            self._loop.add_reader(listener.fileno(), self._accept, listener)

    async def _serve(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, conn)
        except Exception:
            conn.close()
            log.exception("server.connection_setup_failed")

    def is_serving(self) -> bool:
        return not self._closed.done()

    def close(self) -> None:
        if self._closed.done():
            return
        for listener in self.sockets:
            self._loop.remove_reader(listener.fileno())
            listener.close()
        self._closed.set_result(None)

    async def wait_closed(self) -> None:
        await self._closed
