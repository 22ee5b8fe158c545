"""Pure ASGI middleware: serve the gateway's paths, pass everything else to the host app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import Match

from .asgi import Message, Receive, Scope, Send, headers_size, route_path, send_bytes
from .errors import HeadersTooLargeError

if TYPE_CHECKING:
    from .gateway import Gateway


class GatewayMiddleware:
    def __init__(self, app: Any, gateway: Gateway, manage_lifespan: bool = True) -> None:
        self.app = app
        self.gateway = gateway
        self.manage_lifespan = manage_lifespan
        self.routes = gateway.core_routes()
        self.extra_routes = gateway.extra_routes
        self.max_header_bytes = gateway.config.server.max_header_bytes

    async def _headers_too_large(self, path: str, send: Send) -> None:
        error = HeadersTooLargeError(f"the request headers exceed the gateway's limit of {self.max_header_bytes} bytes")
        api = "anthropic" if "/messages" in path else "openai"
        await send_bytes(send, error.status, error.body_for(api), {"content-type": "application/json"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http":
            path = route_path(scope)
            endpoint = self.routes.get(path)
            if endpoint is not None:
                if headers_size(scope) > self.max_header_bytes:
                    await self._headers_too_large(path, send)
                    return
                await endpoint(scope, receive, send)
                return
            for route in self.extra_routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    if headers_size(scope) > self.max_header_bytes:
                        await self._headers_too_large(path, send)
                        return
                    scope.update(child)
                    await route.handle(scope, receive, send)  # type: ignore[arg-type]
                    return
        elif scope_type == "lifespan" and self.manage_lifespan:
            await self.app(scope, self._lifespan_receive(receive), send)
            return
        await self.app(scope, receive, send)

    def _lifespan_receive(self, receive: Receive) -> Receive:
        """Start and stop the gateway with the host's own lifespan events."""
        gateway = self.gateway

        async def wrapped() -> Message:
            message: Message = await receive()
            if message["type"] == "lifespan.startup":
                await gateway.start()
            elif message["type"] == "lifespan.shutdown":
                await gateway.stop()
            return message

        return wrapped
