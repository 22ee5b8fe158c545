"""The /files endpoints: authenticate, pick the account from the header, check who owns
the file, run the operation, and end in ``on_request_end`` like every request (access
log, metrics, trace span, spend record).

Two client APIs: OpenAI's Files API (the openai SDK), and Anthropic's (the anthropic
SDK's ``client.beta.files``, told apart by its ``anthropic-version`` header). Errors
reach the client in its API's shape. Once a streamed answer (a download) has started, a
failure can only cut the connection: the client sees a short body.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from proxy_core import RequestContext
from proxy_core.asgi import ClientDisconnected, Message, Receive, Scope, Send, header_dict, route_path, send_bytes
from proxy_core.endpoints import client_key
from proxy_core.errors import (
    AuthenticationError,
    ClientClosedError,
    InvalidRequestError,
    ProxyError,
    ServiceUnavailableError,
    UpstreamConnectionError,
    internal_error,
)
from proxy_core.operations import Operation

from .access import check_owner
from .accounts import ANTHROPIC, select_account
from .anthropic import AnthropicFiles
from .owners import OwnerStore
from .passthrough import ANTHROPIC_LIST, OPENAI_LIST, passthrough
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


class FilesOperation(Operation):
    """A /files request, for the records: ``files.create``, ``files.list``, ... ."""

    def __init__(self, action: str, api: str) -> None:
        self.name = "files." + action
        self.api = api


def client_api(headers: dict[str, str]) -> str:
    """The anthropic SDK always sends ``anthropic-version``; the openai SDK never does."""
    return "anthropic" if "anthropic-version" in headers else "openai"


class FilesEndpoint:
    """One /files route (``collection``, ``item`` or ``content``) as a pure ASGI app."""

    def __init__(self, gateway: Gateway, route: str, max_upload_bytes: int, settings: dict[str, Any]) -> None:
        self.gateway = gateway
        self.route = route
        self.max_upload_bytes = max_upload_bytes
        self.settings = settings

    @property
    def owners(self) -> OwnerStore:
        store: OwnerStore = self.gateway.state["files"].owners
        return store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if not gateway.started:
            await gateway.start()
        headers = header_dict(scope)
        action = ACTIONS[(self.route, scope["method"])]
        ctx = RequestContext(gateway, FilesOperation(action, client_api(headers)), headers, route_path(scope))
        ctx.method = scope["method"]
        ctx.client_key = client_key(headers)

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                ctx.status = message["status"]
            await send(message)

        gateway.inflight += 1
        try:
            await self._serve(ctx, action, scope, receive, tracked_send)
            ctx.outcome = "completed" if (ctx.status or 500) < 400 else "failed"
        except ProxyError as e:
            await self._error(ctx, e, send)
        except ClientDisconnected:
            ctx.client_closed = True
            self._fail(ctx, ClientClosedError("the client closed the connection"))
        except httpx.TransportError:  # mid-download: the upstream went away
            await self._error(ctx, UpstreamConnectionError("the upstream connection failed mid-response"), send)
        except asyncio.CancelledError:
            ctx.client_closed = True
            self._fail(ctx, ClientClosedError("the client closed the connection"))
            raise
        except Exception:
            log.exception("files.internal_error", path=ctx.path, request_id=ctx.request_id)
            await self._error(ctx, internal_error(), send)
        finally:
            gateway.inflight -= 1
            ctx.ended = time.monotonic()
            await gateway.hooks.on_request_end(ctx)

    async def _serve(self, ctx: RequestContext, action: str, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if gateway.draining:
            raise ServiceUnavailableError("the gateway is shutting down", code="shutting_down")
        principal = await gateway.hooks.authenticate(ctx)
        if principal is None:
            raise AuthenticationError("Missing or invalid gateway API key")
        ctx.principal = principal
        account, provider, wire = select_account(gateway, ctx.headers, principal)
        call = FilesCall(
            gateway,
            scope,
            receive,
            send,
            ctx.headers,
            account,
            provider,
            self.max_upload_bytes,
            principal,
            self.owners,
            ctx.api,
            self.settings,
        )
        call.response_headers = {"x-request-id": ctx.request_id}
        if self.route != "collection":
            if not FILE_ID.fullmatch(call.file_id):
                raise InvalidRequestError(f"invalid file id {call.file_id!r}", param="file_id", code="invalid_file_id")
            await check_owner(call)
        if wire == ANTHROPIC:
            files = AnthropicFiles(call, ctx)
            if ctx.api == "anthropic":  # Anthropic's Files API to an Anthropic-wire account
                await passthrough(call, action, files.headers(), files.base, ANTHROPIC_LIST)
            else:
                await getattr(files, action)()
        elif ctx.api == "anthropic":
            raise InvalidRequestError(
                f"provider account {account!r} speaks OpenAI's Files API: use the openai SDK for it, "
                "or an Anthropic-wire account with the anthropic SDK",
                code="files_api_mismatch",
            )
        else:
            provider_headers = {"authorization": "Bearer " + provider.api_key, **provider.settings.headers}
            await passthrough(call, action, provider_headers, "files", OPENAI_LIST)

    def _fail(self, ctx: RequestContext, error: ProxyError) -> None:
        ctx.outcome, ctx.error = "failed", error
        if ctx.status is None or error.status == 499:
            ctx.status = error.status

    async def _error(self, ctx: RequestContext, error: ProxyError, send: Send) -> None:
        started = ctx.status is not None
        self._fail(ctx, error)
        if started:  # headers are out: end the connection, the client sees a short body
            log.warning("files.failed_mid_response", status=error.status, error=error.message)
            return
        headers = {"content-type": "application/json", "x-request-id": ctx.request_id, **error.headers}
        if isinstance(error, AuthenticationError):
            headers["www-authenticate"] = "Bearer"
        await send_bytes(send, error.status, error.body_for(ctx.api), headers)
