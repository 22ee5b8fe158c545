"""Run fakes and gateways on a background event loop, so tests can use the sync SDKs."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, Protocol, Self, TypeVar

import uvicorn

from ..gateway import Gateway

T = TypeVar("T")

GATEWAY_KEY = "sk-proxy-core-test-key"


class BackgroundLoop:
    """An asyncio loop in a daemon thread; ``run(coro)`` blocks until it finishes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="proxy-core-test-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class ServedApp:
    """Any ASGI app (a gateway, or a host app mounting one) served by uvicorn on 127.0.0.1
    (real HTTP), in the background loop."""

    def __init__(self, app: Any, loop: BackgroundLoop) -> None:
        self._loop = loop
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without, Nagle + delayed ACK stall each answer ~40 ms.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self._task: asyncio.Future[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        async def boot() -> None:
            self._task = asyncio.ensure_future(self.server.serve(sockets=[self._sock]))
            while not self.server.started:
                if self._task.done():
                    self._task.result()
                await asyncio.sleep(0.005)

        self._loop.run(boot())
        return self

    def stop(self) -> None:
        self._loop.run(self._down())
        self._sock.close()

    async def _down(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None


class RunningGateway(ServedApp):
    """A gateway served over real HTTP (see :class:`ServedApp`)."""

    def __init__(self, gateway: Gateway, loop: BackgroundLoop) -> None:
        super().__init__(gateway.app, loop)
        self.gateway = gateway

    async def _down(self) -> None:
        await super()._down()
        if self.gateway.started:  # mounted without lifespan: started lazily
            await self.gateway.stop()


def default_config(openai_url: str | None = None, anthropic_url: str | None = None) -> dict[str, Any]:
    """A config dict with one test key and an account per given fake upstream."""
    providers: dict[str, Any] = {}
    if openai_url:
        providers["openai-main"] = {
            "type": "openai",
            "api_key": "sk-upstream-openai-secret",
            "base_url": openai_url + "/v1",
            "models": {"gpt-4o-mini": {}, "gpt-4o": {}},
        }
    if anthropic_url:
        providers["anthropic-main"] = {
            "type": "anthropic",
            "api_key": "sk-ant-upstream-secret",
            "base_url": anthropic_url,
            "models": {"claude-sonnet-4-20250514": {}, "claude-sonnet-4-5": {}, "claude-3-5": {}},
        }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester", "teams": ["qa"]}]},
        "providers": providers,
    }


class _Served(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


F = TypeVar("F", bound=_Served)


def run_fake(loop: BackgroundLoop, fake: F) -> Iterator[F]:
    """Start a fake upstream (anything with async ``start`` / ``stop``) on the kit's loop for
    a fixture's lifetime: ``yield from run_fake(proxy_core_loop, FakeBedrock())``."""
    loop.run(fake.start())
    try:
        yield fake
    finally:
        loop.run(fake.stop())


def serve_gateway(loop: BackgroundLoop, config: dict[str, Any]) -> Iterator[RunningGateway]:
    """A gateway for ``config`` served over real HTTP for a fixture's lifetime (a session
    gateway: ``yield from serve_gateway(proxy_core_loop, my_config(fake.url))``)."""
    gw = RunningGateway(Gateway(config), loop).start()
    try:
        yield gw
    finally:
        gw.stop()
