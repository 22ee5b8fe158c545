"""RecordedEndpoint: a plugin route served like the client operations (authenticated from
the headers, errors in the client's shape, one record, reached by the shutdown grace)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx

from proxy_core import RequestContext, hookimpl
from proxy_core.asgi import Receive, Scope, Send, send_json
from proxy_core.endpoints import RecordedEndpoint
from proxy_core.errors import NotFoundError
from proxy_core.gateway import Gateway
from proxy_core.operations import Operation
from proxy_core.testing import GATEWAY_KEY, RunningGateway

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}


class Widgets(Operation):
    name = "widgets.get"
    api = "anthropic"


class WidgetEndpoint(RecordedEndpoint):
    def operation(self, scope: Scope, headers: dict[str, str]) -> Operation:
        return Widgets()

    async def serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        widget = scope["path_params"]["widget"]
        if widget == "slow":
            await asyncio.sleep(30)
        if widget != "w1":
            raise NotFoundError(f"no widget {widget!r}")
        assert ctx.principal is not None
        await send_json(send, 200, {"id": widget, "owner": ctx.principal.name})


class WidgetPlugin:
    def __init__(self) -> None:
        self.records: list[tuple[str, int | None, str | None]] = []
        self.ended = threading.Event()

    @hookimpl
    def register_routes(self, register: Callable[..., None], gateway: Gateway) -> None:
        register("/widgets/{widget}", WidgetEndpoint(gateway))

    @hookimpl
    def on_request_end(self, ctx: RequestContext) -> None:
        self.records.append((ctx.operation.name, ctx.status, ctx.principal.name if ctx.principal else None))
        self.ended.set()


def test_a_plugin_route_is_authenticated_shaped_and_recorded_once(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]
) -> None:
    plugin = WidgetPlugin()
    gw = gateway_factory(gateway_config, plugins=[("widgets", plugin)])
    with httpx.Client(base_url=gw.url, timeout=5) as client:
        ok = client.get("/v1/widgets/w1", headers=AUTH)
        assert ok.status_code == 200 and ok.json() == {"id": "w1", "owner": "test"}
        missing = client.get("/v1/widgets/w2", headers=AUTH)
        assert missing.status_code == 404
        assert missing.json()["type"] == "error" and missing.json()["error"]["type"] == "not_found_error"
        anonymous = client.get("/widgets/w1")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert plugin.records == [("widgets.get", 200, "test"), ("widgets.get", 404, "test"), ("widgets.get", 401, None)]


def test_the_shutdown_grace_ends_a_long_plugin_request(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]
) -> None:
    plugin = WidgetPlugin()
    gw = gateway_factory(gateway_config, plugins=[("widgets", plugin)])
    answers: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: answers.append(httpx.get(gw.url + "/widgets/slow", headers=AUTH)))
    caller.start()
    while not gw.gateway.active:
        threading.Event().wait(0.01)
    gw.gateway.begin_drain(grace_s=0.2)
    caller.join(5)
    (answer,) = answers
    assert answer.status_code == 503 and answer.json()["error"]["message"].startswith("the gateway shut down")
    assert plugin.records == [("widgets.get", 503, "test")]
