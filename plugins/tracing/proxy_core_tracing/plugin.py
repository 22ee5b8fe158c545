"""OpenTelemetry tracing: one server span per request, a client span per upstream attempt.

Config (``plugins.tracing``)::

    tracing:
      exporter: otlp          # otlp (OTLP over HTTP) | console | memory | none (default)
      endpoint: http://otel-collector:4318/v1/traces   # otlp; else OTEL_EXPORTER_OTLP_* env
      headers: {x-honeycomb-team: "${HONEYCOMB_KEY}"}  # otlp, optional
      sample_ratio: 1.0       # parent-based: a sampled incoming traceparent is always kept
      service_name: proxy-core

Each gateway has its own ``TracerProvider`` (nothing global is touched). The server
span (kind SERVER, named ``"{operation} {model}"``) starts when the request arrived
and carries the OpenTelemetry GenAI semantic-convention attributes
(``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.response.model``, ``gen_ai.usage.input_tokens`` / ``output_tokens``,
``gen_ai.usage.cache_read.input_tokens`` / ``cache_creation.input_tokens``) plus
``proxy_core.cost_usd``, ``proxy_core.request_id``, ``proxy_core.key_name``,
``proxy_core.target``, ``proxy_core.route``, ``proxy_core.attempts`` and
``proxy_core.ttft_s``. Each upstream HTTP call is a CLIENT child span made by
opentelemetry-instrumentation-httpx on the account's pooled client; every attempt's
outcome is a ``proxy_core.attempt`` event and every fallback a ``proxy_core.fallback``
event (a retry of the same target: ``proxy_core.retry``) on the server span. A W3C
``traceparent`` from the client is continued.

Never recorded: keys, request or response bodies, error messages (upstream text may
echo anything); errors appear as ``error.type`` and status codes only.
``exporter: memory`` keeps spans in an ``InMemorySpanExporter`` at
``gateway.state["tracing"].exporter``, for tests.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from proxy_core import Attempt, RequestContext, Route, hookimpl
from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.tracing")

NAME = "tracing"
_PROPAGATOR = TraceContextTextMapPropagator()
_GENAI_OPERATION = {"chat": "chat", "messages": "chat", "count_tokens": "count_tokens"}


@dataclass
class TracingState:
    provider: TracerProvider
    tracer: trace.Tracer
    exporter: SpanExporter
    instrumented: list[Any]


def _exporter(section: dict[str, Any]) -> SpanExporter | None:
    kind = str(section.get("exporter") or "none").lower()
    if kind == "none":
        return None
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "memory":
        return InMemorySpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        headers = section.get("headers") or None
        return OTLPSpanExporter(endpoint=section.get("endpoint") or None, headers=headers)
    raise ConfigError([f"plugins.tracing.exporter: unknown exporter {kind!r} (otlp, console, memory, none)"])


def make_state(section: dict[str, Any]) -> TracingState | None:
    exporter = _exporter(section)
    if exporter is None:
        return None
    try:
        ratio = float(section.get("sample_ratio", 1.0))
    except (TypeError, ValueError):
        raise ConfigError(["plugins.tracing.sample_ratio: must be a number between 0 and 1"]) from None
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(["plugins.tracing.sample_ratio: must be a number between 0 and 1"])
    resource = Resource.create({"service.name": str(section.get("service_name") or "proxy-core")})
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(ratio)))
    batch = not isinstance(exporter, InMemorySpanExporter | ConsoleSpanExporter)
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return TracingState(provider, provider.get_tracer("proxy_core"), exporter, [])


def _state(ctx: RequestContext) -> TracingState | None:
    state: TracingState | None = ctx.gateway.state.get(NAME)
    return state


@hookimpl
def gateway_started(gateway: Gateway) -> None:
    state = make_state(gateway.config.plugin_section(NAME))
    gateway.state[NAME] = state
    if state is None:
        return
    # Imported when tracing is on: the instrumentation and wrapt add ~10 MiB to a worker.
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for name, client in gateway.clients.items():
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=state.provider)
        state.instrumented.append(client)
        gateway.direct_clients.pop(name, None)  # upstream calls go through the instrumented client


@hookimpl
async def gateway_stopping(gateway: Gateway) -> None:
    state: TracingState | None = gateway.state.pop(NAME, None)
    if state is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for client in state.instrumented:
        HTTPXClientInstrumentor.uninstrument_client(client)
    # Flushes the batch processor: blocking HTTP, so off the event loop.
    await asyncio.to_thread(state.provider.shutdown)


def _start(ctx: RequestContext, state: TracingState) -> trace.Span:
    parent = _PROPAGATOR.extract(ctx.headers)
    span = state.tracer.start_span(
        f"{_GENAI_OPERATION.get(ctx.operation.name, ctx.operation.name)} {ctx.requested_model or ''}".strip(),
        context=parent,
        kind=SpanKind.SERVER,
        start_time=int(ctx.started_wall * 1e9),
        attributes={
            "gen_ai.operation.name": _GENAI_OPERATION.get(ctx.operation.name, ctx.operation.name),
            "http.request.method": ctx.method,
            "url.path": ctx.path,
            "proxy_core.request_id": ctx.request_id,
            "proxy_core.operation": ctx.operation.name,
        },
    )
    ctx.state[NAME] = span
    return span


@hookimpl(tryfirst=True)
def resolve_model(ctx: RequestContext, name: str) -> Route | None:
    """Not a resolver: the first per-request pipeline hook, where the server span starts and
    becomes current, so the upstream HTTP spans nest under it. Always returns None."""
    state = _state(ctx)
    if state is not None and NAME not in ctx.state:
        span = _start(ctx, state)
        ctx.state[NAME + ".token"] = otel_context.attach(trace.set_span_in_context(span))
    return None


# OpenTelemetry's well-known gen_ai.provider.name values, by provider type; other types
# (aws-claude-platform, vllm, ollama, openrouter, ...) are named by their type.
_PROVIDER_NAMES = {
    "bedrock": "aws.bedrock",
    "azure-openai": "azure.ai.openai",
    "gemini": "gcp.gemini",
    "vertex": "gcp.vertex_ai",
    "xai": "x_ai",
    "mistral": "mistral_ai",
}


def provider_name(type_name: str) -> str:
    return _PROVIDER_NAMES.get(type_name, type_name)


@hookimpl
def on_attempt_end(ctx: RequestContext, attempt: Attempt) -> None:
    span: trace.Span | None = ctx.state.get(NAME)
    if span is None:
        return
    attrs: dict[str, Any] = {
        "proxy_core.attempt": attempt.index,
        "proxy_core.target": attempt.target.name,
        "gen_ai.provider.name": provider_name(attempt.target.provider.type_name),
        "http.response.status_code": attempt.status or 0,
    }
    if attempt.error is not None:
        attrs["error.type"] = type(attempt.error).__name__
    span.add_event("proxy_core.attempt", attrs)


@hookimpl
def on_request_end(ctx: RequestContext) -> None:
    state = _state(ctx)
    if state is None:
        return
    span: trace.Span = ctx.state.get(NAME) or _start(ctx, state)
    token = ctx.state.pop(NAME + ".token", None)
    if token is not None:
        try:
            otel_context.detach(token)
        except Exception:  # a context switch we did not expect: the span still ends
            log.debug("tracing.detach_failed", request_id=ctx.request_id)
    try:
        _finish(ctx, span)
    finally:
        end = time.time() - (time.monotonic() - ctx.ended) if ctx.ended is not None else time.time()
        span.end(end_time=int(end * 1e9))


def _finish(ctx: RequestContext, span: trace.Span) -> None:
    if not span.is_recording():
        return
    attrs: dict[str, Any] = {"http.response.status_code": ctx.status or 0, "proxy_core.attempts": len(ctx.attempts)}
    if ctx.requested_model:
        attrs["gen_ai.request.model"] = ctx.requested_model
    if ctx.principal is not None:
        attrs["proxy_core.key_name"] = ctx.principal.name
    if ctx.route is not None:
        attrs["proxy_core.route"] = ctx.route.alias or ctx.route.name
    attrs["proxy_core.stream"] = ctx.stream
    served = ctx.served_by or (ctx.attempts[-1] if ctx.attempts and ctx.usage else None)
    if served is not None:
        attrs["gen_ai.response.model"] = served.target.model
        attrs["gen_ai.provider.name"] = provider_name(served.target.provider.type_name)
        attrs["proxy_core.provider_type"] = served.target.provider.type_name
        attrs["proxy_core.target"] = served.target.name
    attrs.update(_usage_attributes(ctx))
    if ctx.ttft_s is not None:
        attrs["proxy_core.ttft_s"] = round(ctx.ttft_s, 6)
    span.set_attributes(attrs)
    for failed, nxt in zip(ctx.attempts, ctx.attempts[1:], strict=False):
        span.add_event(
            "proxy_core.retry" if nxt.target is failed.target else "proxy_core.fallback",
            {"proxy_core.from": failed.target.name, "proxy_core.to": nxt.target.name, "error.type": _err(failed)},
            timestamp=int((time.time() - (time.monotonic() - nxt.started)) * 1e9),
        )
    if ctx.outcome != "completed":
        kind = type(ctx.error).__name__ if ctx.error is not None else "error"
        span.set_attribute("error.type", kind)
        span.set_status(Status(StatusCode.ERROR, kind))


def _err(attempt: Attempt) -> str:
    return type(attempt.error).__name__ if attempt.error is not None else "none"


def _usage_attributes(ctx: RequestContext) -> dict[str, Any]:
    """Token counts (and cost) as the cost plugin billed them, else from the usage dict."""
    out: dict[str, Any] = {}
    bill = ctx.state.get("cost")
    if bill is not None:
        tokens = bill.tokens
        out["gen_ai.usage.input_tokens"] = tokens.prompt_total
        out["gen_ai.usage.output_tokens"] = tokens.output
        out["gen_ai.usage.cache_read.input_tokens"] = tokens.cache_read
        out["gen_ai.usage.cache_creation.input_tokens"] = tokens.cache_write
        out["gen_ai.usage.reasoning.output_tokens"] = tokens.reasoning
        if bill.cost_usd is not None:
            out["proxy_core.cost_usd"] = bill.cost_usd
        return out
    usage = ctx.usage
    if not usage:
        return out
    for key, attr in (
        ("prompt_tokens", "gen_ai.usage.input_tokens"),
        ("completion_tokens", "gen_ai.usage.output_tokens"),
    ):
        if isinstance(usage.get(key), int):
            out[attr] = usage[key]
    return out
