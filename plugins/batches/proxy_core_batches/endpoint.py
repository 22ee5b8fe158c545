"""The batches endpoints: authenticate, pick the account from the header (the ``files``
plugin's routing), check who owns the batch (the ``files`` plugin's owner store, keyed
by account and batch id), run the action, and end in ``on_request_end`` like every
request (access log, metrics, trace span, spend record).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING

import structlog
from proxy_core_files.accounts import ANTHROPIC, OPENAI, select_account
from proxy_core_files.owners import OwnerStore
from proxy_core_files.upstream import FilesCall

from proxy_core import RequestContext
from proxy_core.asgi import ClientDisconnected, Message, Receive, Scope, Send, header_dict, route_path, send_bytes
from proxy_core.endpoints import client_key
from proxy_core.errors import (
    AuthenticationError,
    ClientClosedError,
    InvalidRequestError,
    NotFoundError,
    ProxyError,
    ServiceUnavailableError,
    internal_error,
)
from proxy_core.operations import Operation

from .anthropic import AnthropicBatches
from .openai import OpenAIBatches

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.batches")

BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BatchOperation(Operation):
    """A batches request, for the records: ``batches.create``, ``batches.results``, ..."""

    def __init__(self, action: str, api: str) -> None:
        self.name = "batches." + action
        self.api = api


def batch_not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"No such batch: {batch_id!r}", param="batch_id", code="batch_not_found")


class BatchesEndpoint:
    """One batches route of one client API ("anthropic" or "openai") as a pure ASGI app."""

    def __init__(self, gateway: Gateway, api: str, actions: dict[str, str]) -> None:
        self.gateway = gateway
        self.api = api
        self.actions = actions  # HTTP method -> action

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if not gateway.started:
            await gateway.start()
        headers = header_dict(scope)
        action = self.actions[scope["method"]]
        ctx = RequestContext(gateway, BatchOperation(action, self.api), headers, route_path(scope))
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
            self._fail(ctx, ClientClosedError("the client closed the connection"))
        except asyncio.CancelledError:
            self._fail(ctx, ClientClosedError("the client closed the connection"))
            raise
        except Exception:
            log.exception("batches.internal_error", path=ctx.path, request_id=ctx.request_id)
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
        if wire != (ANTHROPIC if self.api == "anthropic" else OPENAI):
            raise InvalidRequestError(
                f"provider account {account!r} (type {provider.type_name!r}) has no "
                + ("Message Batches API: use /v1/batches (the openai SDK)" if self.api == "anthropic" else "")
                + ("OpenAI Batch API: use /v1/messages/batches (the anthropic SDK)" if self.api == "openai" else ""),
                code="batches_api_mismatch",
            )
        state = gateway.state.get("files")
        if state is None:
            raise ServiceUnavailableError("batch ownership is not available (the files plugin is not started)")
        owners: OwnerStore = state.owners
        call = FilesCall(gateway, scope, receive, send, ctx.headers, account, provider, 0, principal, owners, self.api)
        call.response_headers = {"x-request-id": ctx.request_id}
        batch_id = str(scope.get("path_params", {}).get("batch_id", ""))
        if batch_id:
            if not BATCH_ID.fullmatch(batch_id):
                raise InvalidRequestError(f"invalid batch id {batch_id!r}", param="batch_id", code="invalid_batch_id")
            if not principal.admin:
                found = await owners.owners([account], [batch_id])
                if principal.name not in found.get(batch_id, ()):
                    raise batch_not_found(batch_id)
        actions = (
            AnthropicBatches(call, ctx, batch_id) if self.api == "anthropic" else OpenAIBatches(call, ctx, batch_id)
        )
        await getattr(actions, action)()

    def _fail(self, ctx: RequestContext, error: ProxyError) -> None:
        ctx.outcome, ctx.error = "failed", error
        if ctx.status is None or error.status == 499:
            ctx.status = error.status

    async def _error(self, ctx: RequestContext, error: ProxyError, send: Send) -> None:
        started = ctx.status is not None
        self._fail(ctx, error)
        if started:  # headers are out: the client sees a short body
            log.warning("batches.failed_mid_response", status=error.status, error=error.message)
            return
        headers = {"content-type": "application/json", "x-request-id": ctx.request_id, **error.headers}
        if isinstance(error, AuthenticationError):
            headers["www-authenticate"] = "Bearer"
        await send_bytes(send, error.status, error.body_for(ctx.api), headers)
