"""The gateway's own ASGI endpoints: client operations, /models, /healthz, /readyz."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from . import pipeline
from .asgi import (
    ClientDisconnected,
    Message,
    Receive,
    Scope,
    Send,
    encode_headers,
    header_dict,
    parse_json_object,
    read_body,
    route_path,
    send_bytes,
    send_json,
    watch_disconnect,
)
from .context import Principal, RequestContext
from .errors import (
    MISSING_KEY_MESSAGE,
    AuthenticationError,
    ClientClosedError,
    PermissionDeniedError,
    ProxyError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UpstreamConnectionError,
    internal_error,
)
from .operations import Operation

if TYPE_CHECKING:
    from .gateway import Gateway

log = structlog.get_logger("proxy_core.request")


def client_key(headers: dict[str, str]) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return key
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


async def authenticate_headers(
    gateway: Gateway, headers: Mapping[str, str], path: str, *, admin: bool = False
) -> Principal:
    """The caller of a request that is not a client operation (/models, plugin routes).

    ``headers`` must have lower-case names. Raises ``AuthenticationError`` (401), or
    ``PermissionDeniedError`` (403) when ``admin`` is required and the key is not one.
    """
    if not gateway.started:
        await gateway.start()
    lowered = dict(headers)
    ctx = RequestContext(gateway, gateway.operations["chat"], lowered, path)
    ctx.client_key = client_key(lowered)
    principal = await authenticate(ctx)
    if admin and not principal.admin:
        raise PermissionDeniedError(f"key '{principal.name}' is not an admin key")
    return principal


async def authenticate(ctx: RequestContext) -> Principal:
    """Set and return ``ctx.principal`` from the key in the headers (401 without one)."""
    principal = await ctx.gateway.hooks.authenticate(ctx)
    if principal is None:
        raise AuthenticationError(MISSING_KEY_MESSAGE)
    ctx.principal = principal
    return principal


class OperationEndpoint:
    """One client operation (chat, messages, count_tokens) as a pure ASGI app."""

    def __init__(self, gateway: Gateway, operation: Operation) -> None:
        self.gateway = gateway
        self.operation = operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if not gateway.started:
            await gateway.start()
        headers = header_dict(scope)
        ctx = RequestContext(gateway, self.operation, headers, route_path(scope))
        ctx.client_key = client_key(headers)
        task = asyncio.current_task()
        watcher: asyncio.Task[None] | None = None
        drain_timer: asyncio.TimerHandle | None = None
        server = gateway.config.server
        gateway.inflight += 1
        gateway.active.add(ctx)

        def on_disconnect() -> None:
            nonlocal drain_timer
            if ctx.outcome is None and task is not None and ctx.abort_error is None:
                ctx.client_closed = True
                if ctx.answer_complete and server.usage_drain_s > 0:
                    # The client has its whole answer: let the stream read on (sending
                    # nothing) for the upstream's final usage, for a bounded time.
                    drain_timer = asyncio.get_running_loop().call_later(server.usage_drain_s, task.cancel)
                else:
                    task.cancel()

        def abort(error: ProxyError) -> None:
            """End this request with ``error`` (total timeout, shutdown grace over)."""
            if ctx.outcome is None and task is not None and not ctx.client_closed and ctx.abort_error is None:
                ctx.abort_error = error
                task.cancel()

        ctx.abort = abort
        try:
            if gateway.draining:
                raise ServiceUnavailableError("the gateway is shutting down", code="shutting_down")
            await authenticate(ctx)  # from the headers: unauthenticated callers cost no body read
            try:
                async with asyncio.timeout(server.body_read_timeout_s):
                    raw = await read_body(receive, headers, server.max_body_bytes)
            except TimeoutError:
                raise RequestTimeoutError(
                    f"the request body was not received within {server.body_read_timeout_s:g}s"
                ) from None
            ctx.body = parse_json_object(raw, server.max_json_values)
            ctx.raw_body = raw
            watcher = watch_disconnect(receive, on_disconnect)
            result = await pipeline.execute(ctx)
            if isinstance(result, pipeline.JSONResult):
                watcher.cancel()
                ctx.outcome, ctx.status = "completed", result.status
                await send_bytes(send, result.status, result.body, self._headers(ctx, "application/json"))
            else:
                await self._stream(ctx, result, send, watcher)
        except asyncio.CancelledError:
            if task is None or not (ctx.client_closed or ctx.abort_error):
                raise
            task.uncancel()
            if ctx.client_closed:
                self._fail(ctx, ClientClosedError("the client closed the connection"))
            elif ctx.outcome is None and ctx.abort_error is not None:
                await self._send_error(ctx, ctx.abort_error, send, watcher)
        except ClientDisconnected:
            ctx.client_closed = True
            self._fail(ctx, ClientClosedError("the client closed the connection"))
        except ProxyError as e:
            await self._send_error(ctx, e, send, watcher)
        except Exception:
            log.exception("request.internal_error", request_id=ctx.request_id)
            await self._send_error(ctx, internal_error(), send, watcher)
        finally:
            if drain_timer is not None:
                drain_timer.cancel()
            if watcher is not None:
                watcher.cancel()
            gateway.inflight -= 1
            gateway.active.discard(ctx)
            ctx.ended = time.monotonic()
            await gateway.hooks.on_request_end(ctx)

    def _headers(self, ctx: RequestContext, content_type: str) -> dict[str, str]:
        headers = {"content-type": content_type, "x-request-id": ctx.request_id}
        served = ctx.served_by
        if served is not None:
            headers["x-proxy-core-target"] = served.target.name
            headers.update(served.response_headers)
        headers.update(ctx.response_headers)
        self.gateway.hooks.response_headers(ctx, headers)
        return headers

    def _fail(self, ctx: RequestContext, error: ProxyError) -> None:
        ctx.outcome, ctx.status, ctx.error = "failed", error.status, error

    async def _send_error(
        self, ctx: RequestContext, error: ProxyError, send: Send, watcher: asyncio.Task[None] | None
    ) -> None:
        if watcher is not None:
            watcher.cancel()
        self._fail(ctx, error)
        headers = self._headers(ctx, "application/json")
        headers.update(error.headers)
        if isinstance(error, AuthenticationError):
            headers["www-authenticate"] = "Bearer"
        await send_bytes(send, error.status, error.body_for(ctx.api), headers)

    async def _stream(
        self, ctx: RequestContext, result: pipeline.StreamResult, send: Send, watcher: asyncio.Task[None]
    ) -> None:
        op = ctx.operation
        stream = result.stream
        headers = self._headers(ctx, "text/event-stream; charset=utf-8")
        headers["cache-control"] = "no-cache"
        headers["x-accel-buffering"] = "no"
        tail = op.done
        try:
            await send({"type": "http.response.start", "status": 200, "headers": encode_headers(headers)})
            ctx.first_token_at = time.monotonic()
            if result.head:
                await self._relay(ctx, send, result.head)
            while (items := await stream.next_items()) is not None:
                if items:
                    await self._relay(ctx, send, items)
            if ctx.client_closed:  # drained for usage after the client left
                self._fail(ctx, ClientClosedError("the client closed the connection"))
            else:
                ctx.outcome, ctx.status = "completed", 200
        except ProxyError as e:
            # After a 200 has gone out, an error becomes an event in the client's shape.
            self._stream_failed(ctx, e)
            tail = op.error_event(e)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if ctx.abort_error is None or ctx.client_closed or task is None:
                raise
            task.uncancel()
            self._stream_failed(ctx, ctx.abort_error)
            tail = op.error_event(ctx.abort_error)
        except Exception:
            log.exception("stream.internal_error", request_id=ctx.request_id)
            err = internal_error()
            self._stream_failed(ctx, err)
            tail = op.error_event(err)
        finally:
            _settle_usage(ctx, stream)
            stream.attempt.ended = time.monotonic()
            if ctx.outcome is None:
                stream.attempt.error = ClientClosedError("the client closed the connection")
            self.gateway.hooks.on_attempt_end(ctx, stream.attempt)
            await stream.aclose()
        watcher.cancel()
        if not ctx.client_closed:
            await send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _relay(self, ctx: RequestContext, send: Send, items: list[Any]) -> None:
        op = ctx.operation
        for item in items:
            op.observe(ctx, item)
        if not ctx.client_closed:
            await _send_chunk(send, b"".join([op.encode_item(ctx, item) for item in items]))

    def _stream_failed(self, ctx: RequestContext, error: ProxyError) -> None:
        self._fail(ctx, error)
        ctx.attempts[-1].error = error
        log.warning("stream.failed", request_id=ctx.request_id, status=error.status, error=error.message)


def _settle_usage(ctx: RequestContext, stream: pipeline.UpstreamStream) -> None:
    """The stream's usage for the record: the upstream's when the stream reached its end,
    else an estimate (the client left, the gateway aborted, the upstream failed):
    input from the upstream's count if it gave one (Anthropic does up front) or from the
    request's size, output from the characters relayed (~4 per token)."""
    usage = stream.translator.usage or ctx.usage
    if stream.ended:
        ctx.usage, ctx.usage_source = usage, "upstream" if usage else None
        return
    usage = dict(usage or {})
    prompt = usage.get("prompt_tokens") or len(ctx.raw_body) // 4
    completion = max(usage.get("completion_tokens") or 0, -(-ctx.relayed_chars // 4))
    usage.update(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    ctx.usage, ctx.usage_source = usage, "estimated"


async def _send_chunk(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


class RecordedEndpoint:
    """Base of plugin routes served like the client operations (/files, batches...):
    authenticated from the headers before anything is read, counted in flight (drain and
    the shutdown grace reach it), errors in the client's API shape, and exactly one
    ``on_request_end`` (access log, metrics, span, records).

    Subclasses give the request's ``operation`` (its ``name`` is what records show, its
    ``api`` the error shape) and ``serve`` it with ``ctx.principal`` set. Once the answer's
    headers are out, a failure can only cut the connection (the client sees a short body).
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def operation(self, scope: Scope, headers: dict[str, str]) -> Operation:
        raise NotImplementedError

    async def serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        if not gateway.started:
            await gateway.start()
        headers = header_dict(scope)
        ctx = RequestContext(gateway, self.operation(scope, headers), headers, route_path(scope))
        ctx.method = scope["method"]
        ctx.client_key = client_key(headers)
        task = asyncio.current_task()

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                ctx.status = message["status"]
            await send(message)

        def abort(error: ProxyError) -> None:  # the shutdown grace is over
            if ctx.outcome is None and task is not None and ctx.abort_error is None:
                ctx.abort_error = error
                task.cancel()

        ctx.abort = abort
        gateway.inflight += 1
        gateway.active.add(ctx)
        try:
            if gateway.draining:
                raise ServiceUnavailableError("the gateway is shutting down", code="shutting_down")
            await authenticate(ctx)
            await self.serve(ctx, scope, receive, tracked_send)
            ctx.outcome = "completed" if (ctx.status or 500) < 400 else "failed"
        except ProxyError as e:
            await self._error(ctx, e, send)
        except ClientDisconnected:
            self._closed(ctx)
        except httpx.TransportError:  # mid-download: the upstream went away
            await self._error(ctx, UpstreamConnectionError("the upstream connection failed mid-response"), send)
        except asyncio.CancelledError:
            if task is None or ctx.abort_error is None:
                self._closed(ctx)
                raise
            task.uncancel()
            await self._error(ctx, ctx.abort_error, send)
        except Exception:
            log.exception("endpoint.internal_error", operation=ctx.operation.name, request_id=ctx.request_id)
            await self._error(ctx, internal_error(), send)
        finally:
            gateway.inflight -= 1
            gateway.active.discard(ctx)
            ctx.ended = time.monotonic()
            await gateway.hooks.on_request_end(ctx)

    def _closed(self, ctx: RequestContext) -> None:
        ctx.client_closed = True
        self._fail(ctx, ClientClosedError("the client closed the connection"))

    def _fail(self, ctx: RequestContext, error: ProxyError) -> None:
        ctx.outcome, ctx.error = "failed", error
        if ctx.status is None or error.status == 499:
            ctx.status = error.status

    async def _error(self, ctx: RequestContext, error: ProxyError, send: Send) -> None:
        started = ctx.status is not None
        self._fail(ctx, error)
        if started:
            log.warning("endpoint.failed_mid_response", operation=ctx.operation.name, status=error.status)
            return
        headers = {"content-type": "application/json", "x-request-id": ctx.request_id, **error.headers}
        if isinstance(error, AuthenticationError):
            headers["www-authenticate"] = "Bearer"
        await send_bytes(send, error.status, error.body_for(ctx.api), headers)


class ModelsEndpoint:
    """GET /models: what the caller may use, in OpenAI's list shape."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        try:
            principal = await authenticate_headers(gateway, header_dict(scope), route_path(scope))
        except ProxyError as e:
            await send_bytes(send, e.status, e.body_for("openai"), {"content-type": "application/json"})
            return
        routes = gateway.route_table
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": owner}
            for name, owner in gateway.model_names()
            if principal.may_use(name) and any(principal.role_on(t.provider) for t in routes[name].targets)
        ]
        await send_json(send, 200, {"object": "list", "data": data})


class HealthEndpoint:
    """GET /healthz: liveness, never depends on providers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, 200, {"status": "ok"})


class ReadyEndpoint:
    """GET /readyz: 200 once started and not draining (503 from the first shutdown signal)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gw = self.gateway
        if not gw.started and not gw.draining:  # mounted without lifespan: the probe starts it
            await gw.start()
        ready = gw.started and not gw.draining
        body: dict[str, Any] = {"status": "ready" if ready else ("draining" if gw.draining else "starting")}
        await send_json(send, 200 if ready else 503, body)
