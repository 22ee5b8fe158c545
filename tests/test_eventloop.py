"""The served workers' event loop accepts every waiting connection per wake-up.

libuv (in uvloop) accepts one connection per loop iteration: a worker whose iterations
take 20 ms needs ~4 s for 200 waiting connections (measured on this machine with
uvloop's own server). EagerAcceptLoop's listeners take them all at the next wake-up.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from proxy_core.eventloop import EagerAcceptLoop

CONNECTIONS = 200


class Counting(asyncio.Protocol):
    made: list[float]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(time.monotonic())


def _run(main: object) -> None:
    loop = EagerAcceptLoop()
    try:
        loop.run_until_complete(main)
    finally:
        loop.close()


def _connect_many(port: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]


@pytest.mark.parametrize("own_socket", [False, True], ids=["host-port", "sock"])
def test_a_busy_worker_accepts_every_waiting_connection_at_once(own_socket: bool) -> None:
    made: list[float] = []
    Counting.made = made

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if own_socket:  # uvicorn's path with several workers: it binds, the loop listens
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            server = await loop.create_server(Counting, sock=sock, backlog=1024)
        else:
            server = await loop.create_server(Counting, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        busy = True

        async def busy_worker() -> None:  # every loop iteration takes 20 ms
            while busy:
                time.sleep(0.02)  # noqa: ASYNC251 - blocking on purpose: a busy worker
                await asyncio.sleep(0)

        worker = loop.create_task(busy_worker())
        clients = await asyncio.to_thread(_connect_many, port)  # queued in the kernel meanwhile
        queued_at = time.monotonic()
        while len(made) < CONNECTIONS and time.monotonic() - queued_at < 10:
            await asyncio.sleep(0)
        waited = time.monotonic() - queued_at
        busy = False
        await worker
        server.close()
        await server.wait_closed()
        for client in clients:
            client.close()
        assert len(made) == CONNECTIONS
        assert waited < 0.5, f"{CONNECTIONS} waiting connections took {waited:.2f}s to accept"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1)

    _run(main())
