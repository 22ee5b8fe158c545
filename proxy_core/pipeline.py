"""The request lifecycle: authenticate, resolve, authorize, then the attempt loop.

Per attempt: prepare (hooks) -> translate (provider) -> prepare_upstream_request (hooks)
-> send -> translate back. A stream is held until its first substantive item, so an
error before that point is still a fallback point; after it, never.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import orjson
import structlog

from .context import Attempt, RequestContext, UpstreamRequest
from .errors import (
    GatewayTimeoutError,
    InvalidRequestError,
    NotFoundError,
    ProxyError,
    ServiceUnavailableError,
    UpstreamConnectionError,
    UpstreamError,
)
from .sse import SSEError, SSEParser
from .upstream import UpstreamResponse, cause_name, is_timeout, read_capped, send_upstream

if TYPE_CHECKING:
    from .operations import OperationBridge, StreamConverter
    from .provider import Provider, StreamTranslator

log = structlog.get_logger("proxy_core.pipeline")

E = TypeVar("E", bound=ProxyError)

MAX_ERROR_BODY = 64 * 1024
MAX_RESPONSE_BODY = 64 * 1024 * 1024


@dataclass(slots=True)
class JSONResult:
    body: bytes
    status: int = 200


@dataclass(slots=True)
class StreamResult:
    head: list[Any]  # items read while holding for the first substantive one
    stream: UpstreamStream


async def execute(ctx: RequestContext) -> JSONResult | StreamResult:
    """Everything between a parsed body (of an authenticated caller) and a result to render."""
    hooks = ctx.gateway.hooks
    body = ctx.body
    ctx.operation.validate(body)
    ctx.stream = body.get("stream") is True
    name = body["model"]
    ctx.requested_model = name
    route = await hooks.resolve_model(ctx, name)
    if route is None:
        raise NotFoundError(f"The model '{name}' does not exist", param="model")
    ctx.route = route
    await hooks.authorize(ctx)
    return await run_attempts(ctx)


async def run_attempts(ctx: RequestContext) -> JSONResult | StreamResult:
    """The retry and fallback loop over the route's targets."""
    assert ctx.route is not None
    hooks = ctx.gateway.hooks
    targets = hooks.select_targets(ctx, ctx.route.targets)
    if not targets:
        raise ServiceUnavailableError("no target of this route is available right now", code="no_healthy_target")
    # Prepare hooks mutate the body: the first attempt works on the parsed client body,
    # every later one on a fresh parse of the client's bytes (no copy unless needed).
    last = len(targets) - 1
    first_error: ProxyError | None = None
    for i, target in enumerate(targets):
        retry = 0
        while True:
            body = ctx.body if not ctx.attempts else _fresh_body(ctx)
            attempt = Attempt(len(ctx.attempts), target, body)
            attempt.retry = retry
            ctx.attempts.append(attempt)
            try:
                return await run_attempt(ctx, attempt)
            except ProxyError as e:
                first_error = first_error or e
                attempt.error = e
                attempt.status = attempt.status if attempt.status and attempt.status >= 400 else e.status
                attempt.ended = time.monotonic()
                hooks.on_attempt_end(ctx, attempt)
                delay = hooks.retry_delay(ctx, attempt, e)
                if delay is None:
                    if i < last and hooks.should_fallback(ctx, attempt, e):
                        log.info("fallback", request_id=ctx.request_id, failed=target.name, status=e.status)
                        break
                    raise _reported_error(ctx, first_error, e) from None
                retry += 1
                log.info("retry", request_id=ctx.request_id, target=target.name, status=e.status, delay_s=delay)
                if delay > 0:
                    await asyncio.sleep(delay)
    raise AssertionError("unreachable: a route has at least one target")


def _fresh_body(ctx: RequestContext) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(ctx.raw_body) if ctx.raw_body else {}
    return body


def _reported_error(ctx: RequestContext, first: ProxyError, last: ProxyError) -> ProxyError:
    """The error a client gets when every attempt failed. A rejection (4xx) by a fallback
    says nothing about the model the client chose: the primary's error is reported, and
    the fallback's is named (message and ``x-proxy-core-fallback-error``). When every
    target rejected the request itself the primary's answer explains it best; otherwise
    the last error is the freshest news."""
    if first is last:
        return last
    if _is_rejection(last):
        failed = next(a for a in reversed(ctx.attempts) if a.error is last)
        first.headers["x-proxy-core-fallback-error"] = f"{failed.target.name} {last.status}"
        if not _is_rejection(first):
            first.message += f" (fallback '{failed.target.name}' also failed: {last.status} {last.message})"
            first.args = (first.message,)
        return first
    return last


def _is_rejection(e: ProxyError) -> bool:
    return 400 <= e.status < 500 and e.status not in (408, 429, 499)


async def run_attempt(ctx: RequestContext, attempt: Attempt) -> JSONResult | StreamResult:
    hooks = ctx.gateway.hooks
    provider = attempt.target.provider
    provider.check_available()
    bridge = None
    view = ctx  # what the provider and the per-attempt hooks see: ctx, or its bridged view
    if not provider.supports(ctx.operation.name):
        bridge = hooks.operation_bridge(ctx, attempt)
        if bridge is None or (bridge.operation is not None and not provider.supports(bridge.operation.name)):
            raise InvalidRequestError(
                f"provider account '{attempt.target.account}' (type {provider.type_name}) "
                f"does not support the {ctx.operation.name} API"
            )
        if bridge.operation is None:  # answered by the bridge itself (an estimate), no upstream call
            return _local_answer(ctx, attempt, bridge.answer_locally(ctx, attempt))
        attempt.body = bridge.convert_request(ctx, attempt)
        view = copy.copy(ctx)
        view.operation = bridge.operation
    await hooks.prepare_request(view, attempt)
    request = provider.build_request(view, attempt)
    await hooks.prepare_upstream_request(view, attempt, request)
    attempt.upstream_request = request
    limits = attempt.timeouts
    first_token = limits.first_token if limits is not None and ctx.stream else None
    if first_token is None:
        return await _exchange(ctx, view, attempt, request, bridge)
    try:
        async with asyncio.timeout(first_token):
            return await _exchange(ctx, view, attempt, request, bridge)
    except TimeoutError:
        raise GatewayTimeoutError(
            f"provider account '{attempt.target.account}' sent no first token within {first_token:g}s"
        ) from None


def _local_answer(ctx: RequestContext, attempt: Attempt, answer: dict[str, Any]) -> JSONResult:
    attempt.status = 200
    attempt.ended = time.monotonic()
    ctx.gateway.hooks.on_attempt_end(ctx, attempt)
    return JSONResult(ctx.operation.render(ctx, answer))


async def _exchange(
    ctx: RequestContext,
    view: RequestContext,
    attempt: Attempt,
    request: UpstreamRequest,
    bridge: OperationBridge | None = None,
) -> JSONResult | StreamResult:
    """Send, then read a whole answer or hold a stream until its first substantive item.

    ``view`` is the context the provider and the per-attempt hooks see (``ctx`` itself
    unless a bridge serves the client's operation through another one)."""
    hooks = ctx.gateway.hooks
    provider = attempt.target.provider
    account = attempt.target.account
    direct = ctx.gateway.direct_clients.get(account)
    response: UpstreamResponse
    if direct is not None:
        response = await direct.send(request, account, attempt.timeouts)
    else:
        response = await send_upstream(ctx.gateway.clients[account], request, account, attempt.timeouts)
    attempt.status = response.status_code
    if response.status_code >= 400:
        try:
            raw = await read_capped(response, MAX_ERROR_BODY)
        finally:
            await response.aclose()
        raise upstream_error(provider, response.status_code, raw, response.headers)
    if not request.stream:
        try:
            raw = await read_capped(response, MAX_RESPONSE_BODY)
        finally:
            await response.aclose()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise UpstreamError("the upstream returned a body that is not JSON", status=502) from None
        result = provider.parse_response(view, attempt, data)
        hooks.transform_response(view, attempt, result)
        ctx.usage = provider.usage_of(view, result)
        ctx.usage_source = "upstream" if ctx.usage else None
        if bridge is not None:
            result = bridge.convert_response(ctx, attempt, result)
        attempt.ended = time.monotonic()
        hooks.on_attempt_end(ctx, attempt)
        return JSONResult(ctx.operation.render(ctx, result))
    translator = provider.stream_translator(view, attempt)
    converter = bridge.stream_converter(ctx, attempt, translator) if bridge is not None else None
    stream = UpstreamStream(ctx, attempt, response, translator, hooks.stream_transformers(view, attempt), converter)
    try:
        head = await stream.read_until_substantive()
    except BaseException:
        await stream.aclose()
        raise
    return StreamResult(head, stream)


def upstream_error(provider: Provider, status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    """The provider's error answer as the client will see it: the account's own secrets
    scrubbed (upstreams echo keys back), and a 401/403 (the account's credentials were
    rejected: not the client's fault) turned into a 502 whose detail goes to the log."""
    secrets = provider.secrets()
    error = scrub_error(provider.parse_error(status, scrub(raw, secrets), headers), secrets)
    if status not in (401, 403):
        return error
    log.warning("upstream.credentials_rejected", account=provider.name, status=status, detail=error.message)
    message = f"provider account '{provider.name}' rejected the gateway's credentials (upstream HTTP {status})"
    code = "upstream_credentials_rejected"
    if error.actionable:  # the provider's own message says what to do, and its code which case
        message += f": {error.message}"
        code = error.code or code
    else:
        message += "; the gateway's operator must fix the account's credentials or permissions"
    return UpstreamError(message, status=502, code=code, openai_type="upstream_error")


def scrub(raw: bytes, secrets: list[str]) -> bytes:
    for secret in secrets:
        for form in {secret, secret.replace("/", "\\/")}:  # JSON may escape "/"
            raw = raw.replace(form.encode(), b"[redacted]")
    return raw


def scrub_error(error: E, secrets: list[str]) -> E:
    """``error`` with the secrets replaced in its message and raw body (in place)."""
    for secret in secrets:
        if secret in error.message:
            error.message = error.message.replace(secret, "[redacted]")
            error.args = (error.message,)
    if isinstance(error, UpstreamError) and error.raw is not None:
        error.raw = scrub(error.raw, secrets)
    return error


class UpstreamStream:
    """An upstream SSE response read as lists of canonical items, one list per read."""

    __slots__ = (
        "_chunks",
        "_done",
        "_parser",
        "_pending",
        "attempt",
        "converter",
        "ctx",
        "response",
        "transforms",
        "translator",
    )

    def __init__(
        self,
        ctx: RequestContext,
        attempt: Attempt,
        response: UpstreamResponse,
        translator: StreamTranslator,
        transforms: list[Callable[[Any], list[Any]]],
        converter: StreamConverter | None = None,
    ) -> None:
        self.ctx = ctx
        self.attempt = attempt
        self.response = response
        self.translator = translator
        # A bridge's converter runs after the transforms: they work on the provider's
        # operation's items, the client gets its own operation's.
        self.converter = converter
        if converter is not None:
            transforms = [*transforms, converter.feed]
        self.transforms = transforms
        self._chunks: AsyncIterator[bytes] = attempt.target.provider.stream_bytes(response)
        self._parser = SSEParser()
        self._done = False
        self._pending: ProxyError | None = None

    async def next_items(self) -> list[Any] | None:
        """The items of the next upstream read (maybe none); None once the stream ended.

        Upstream order is kept within one read too: items that came before an error
        event are returned first, and the error is raised by the next call.
        """
        if self._pending is not None:
            raise self._pending
        if self._done:
            return None
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._done = True
            tail = [item for event in self._parser.close() for item in self.translator.feed(event)]
            if self._parser.has_partial:
                raise UpstreamError("the upstream stream ended in the middle of an event", status=502) from None
            tail += self.translator.finish()
            self.ctx.usage = self.translator.usage
            tail = self._transform(tail) if self.transforms else tail
            return tail + self.converter.finish() if self.converter is not None else tail
        except httpx.TransportError as e:
            if is_timeout(e):
                raise GatewayTimeoutError("the upstream stream stalled") from None
            raise UpstreamConnectionError(f"the upstream stream was cut ({cause_name(e)})") from None
        items: list[Any] = []
        try:
            for event in self._parser.feed(chunk):
                items.extend(self.translator.feed(event))
        except (ValueError, SSEError, ProxyError) as e:  # ValueError: malformed JSON in an event
            error = (
                scrub_error(e, self.attempt.target.provider.secrets())
                if isinstance(e, ProxyError)
                else UpstreamError("the upstream sent a malformed stream event", status=502)
            )
            if not items:
                raise error from None
            self._pending = error
        return self._transform(items) if self.transforms else items

    def _transform(self, items: list[Any]) -> list[Any]:
        for transform in self.transforms:
            items = [out for item in items for out in transform(item)]
        return items

    async def read_until_substantive(self) -> list[Any]:
        is_substantive = self.ctx.operation.is_substantive
        head: list[Any] = []
        while True:
            items = await self.next_items()
            if items is None:
                return head
            head.extend(items)
            for item in items:
                if is_substantive(item):
                    return head

    @property
    def ended(self) -> bool:
        """True once the upstream's stream was read to its end."""
        return self._done

    async def aclose(self) -> None:
        await self.response.aclose()
