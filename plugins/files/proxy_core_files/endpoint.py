"""The /files endpoints: authenticate, pick the account from the header, run the operation.

Errors reach the client in OpenAI's shape. Once a streamed answer (a download) has
started, a failure can only cut the connection: the client sees a short body.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from proxy_core import RequestContext
from proxy_core.asgi import ClientDisconnected, Message, Receive, Scope, Send, header_dict, route_path, send_bytes
from proxy_core.endpoints import client_key
from proxy_core.errors import (
    AuthenticationError,
    InvalidRequestError,
    ProxyError,
    ServiceUnavailableError,
    UpstreamConnectionError,
    internal_error,
)

from .accounts import ANTHROPIC, select_account
from .anthropic import AnthropicFiles
from .passthrough import passthrough
from .upstream import FILE_ID, FilesCall

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.files")

# (route, HTTP method) -> operation
ACTIONS = {
    ("collection", "POST"): "create",
    ("collection", "GET"): "list",
    ("item", "GET"): "retrieve",
    ("item", "DELETE"): "delete",
    ("content", "GET"): "content",
}


class FilesEndpoint:
    """One /files route (``collection``, ``item`` or ``content``) as a pure ASGI app."""

    def __init__(self, gateway: Gateway, route: str, max_upload_bytes: int, settings: dict[str, Any]) -> None:
        self.gateway = gateway
        self.route = route
        self.max_upload_bytes = max_upload_bytes
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if not gateway.started:
            await gateway.start()
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        headers = header_dict(scope)
        ctx = RequestContext(gateway, gateway.operations["chat"], headers, route_path(scope))
        ctx.client_key = client_key(headers)
        gateway.inflight += 1
        try:
            await self._serve(ctx, scope, receive, tracked_send)
        except ProxyError as e:
            await self._error(e, send, started)
        except ClientDisconnected:
            pass
        except httpx.TransportError:  # mid-download: the upstream went away
            await self._error(UpstreamConnectionError("the upstream connection failed mid-response"), send, started)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("files.internal_error", path=ctx.path, request_id=ctx.request_id)
            await self._error(internal_error(), send, started)
        finally:
            gateway.inflight -= 1

    async def _serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if gateway.draining:
            raise ServiceUnavailableError("the gateway is shutting down", code="shutting_down")
        principal = await gateway.hooks.authenticate(ctx)
        if principal is None:
            raise AuthenticationError("Missing or invalid gateway API key")
        ctx.principal = principal
        action = ACTIONS[(self.route, scope["method"])]
        account, provider, wire = select_account(gateway, ctx.headers, principal)
        call = FilesCall(
            gateway, scope, receive, send, ctx.headers, account, provider, self.max_upload_bytes, self.settings
        )
        call.response_headers = {"x-request-id": ctx.request_id}
        if self.route != "collection" and not FILE_ID.fullmatch(call.file_id):
            raise InvalidRequestError(f"invalid file id {call.file_id!r}", param="file_id", code="invalid_file_id")
        if wire == ANTHROPIC:
            await getattr(AnthropicFiles(call, ctx), action)()
        else:
            await passthrough(call, action)

    async def _error(self, error: ProxyError, send: Send, started: bool) -> None:
        if started:  # headers are out: end the connection, the client sees a short body
            log.warning("files.failed_mid_response", status=error.status, error=error.message)
            return
        headers = {"content-type": "application/json", **error.headers}
        if isinstance(error, AuthenticationError):
            headers["www-authenticate"] = "Bearer"
        await send_bytes(send, error.status, error.body_for("openai"), headers)
