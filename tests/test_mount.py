"""The gateway mounted under /llm in a host Starlette app, and as middleware in front of one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from proxy_core import Gateway
from proxy_core.hookspecs import hookimpl
from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, FakeUpstream
from proxy_core.testing.fake_answers import OPENAI_TEXT
from proxy_core.testing.server import RunningGateway


class StartCounter:
    """A plugin that counts gateway start-ups."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    @hookimpl
    def gateway_started(self) -> None:
        self.started += 1

    @hookimpl
    def gateway_stopping(self) -> None:
        self.stopped += 1


async def host_home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("host home")


class HostServer(RunningGateway):
    """Serve any ASGI app the way the test kit serves a gateway."""

    def __init__(self, app: Any, gateway: Gateway, loop: BackgroundLoop) -> None:
        super().__init__(gateway, loop)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))


@pytest.fixture
def serve(proxy_core_loop: BackgroundLoop) -> Iterator[Any]:
    servers: list[HostServer] = []

    def start(app: Any, gateway: Gateway) -> HostServer:
        server = HostServer(app, gateway, proxy_core_loop)
        servers.append(server)
        return server.start()  # type: ignore[return-value]

    yield start
    for server in servers:
        server.stop()


def chat(base_url: str) -> str | None:
    with openai.OpenAI(base_url=base_url, api_key=GATEWAY_KEY, max_retries=0) as client:
        completion = client.chat.completions.create(
            model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        stream = client.chat.completions.create(
            model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert streamed == completion.choices[0].message.content
    return completion.choices[0].message.content


def test_mounted_under_prefix(serve: Any, gateway_config: dict[str, Any], fake_openai: FakeUpstream) -> None:
    import httpx

    counter = StartCounter()
    gw = Gateway(gateway_config, plugins=[("start-counter", counter)])
    host = Starlette(
        routes=[Route("/", host_home), Mount("/llm", app=gw.app)],
        lifespan=lambda app: gw.lifespan(),
    )
    server = serve(host, gw)
    assert chat(server.url + "/llm/v1") == OPENAI_TEXT
    assert chat(server.url + "/llm") == OPENAI_TEXT
    assert httpx.get(server.url + "/").text == "host home"
    assert httpx.get(server.url + "/llm/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/llm/readyz").status_code == 200
    assert fake_openai.last.json()["model"] == "gpt-4o-mini"
    assert counter.started == 1
    server.stop()
    assert counter.stopped == 1


def test_mounted_without_lifespan_starts_lazily_once(
    serve: Any, gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    counter = StartCounter()
    gw = Gateway(gateway_config, plugins=[("start-counter", counter)])
    host = Starlette(routes=[Route("/", host_home), Mount("/llm", app=gw.app)])
    server = serve(host, gw)
    assert chat(server.url + "/llm/v1") == OPENAI_TEXT
    assert chat(server.url + "/llm/v1") == OPENAI_TEXT
    assert counter.started == 1


def test_as_middleware(serve: Any, gateway_config: dict[str, Any], fake_openai: FakeUpstream) -> None:
    import httpx

    counter = StartCounter()
    gw = Gateway(gateway_config, plugins=[("start-counter", counter)])
    host = Starlette(routes=[Route("/", host_home), Route("/other", host_home)])
    server = serve(gw.middleware(host), gw)
    assert chat(server.url + "/v1") == OPENAI_TEXT
    assert httpx.get(server.url + "/other").text == "host home"
    assert httpx.get(server.url + "/").text == "host home"
    assert counter.started == 1
