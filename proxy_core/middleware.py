"""Pure ASGI middleware: serve the gateway's paths, pass everything else to the host app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import Match

from .asgi import Message, Receive, Scope, Send, route_path

if TYPE_CHECKING:
    from .gateway import Gateway


class GatewayMiddleware:
    def __init__(self, app: Any, gateway: Gateway, manage_lifespan: bool = True) -> None:
        self.app = app
        self.gateway = gateway
        self.manage_lifespan = manage_lifespan
        self.routes = gateway.core_routes()
        self.extra_routes = gateway.extra_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http":
            endpoint = self.routes.get(route_path(scope))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
            for route in self.extra_routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
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
