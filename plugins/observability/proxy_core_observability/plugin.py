"""Structured access logs and Prometheus ``GET /metrics``.

Access logs and metrics live in this plugin rather than in the core so that a host can
leave them out (``plugins.disabled: [observability]``) or replace them, and so the core
has no prometheus-client dependency. Config (``plugins.observability``)::

    observability:
      access_log: true       # one structlog line per request, event "request"
      metrics: true          # serve GET /metrics (and /v1/metrics)
      metrics_auth: none     # none | admin (only keys with admin: true may scrape)

The log level is the core's ``server.log_level`` (the access line is at info). The
access line carries: request_id, key (the key's *name*), user, operation, model (as
requested), route, target (account/model that served), status, outcome, stream,
latency_ms, ttft_ms, input/output/cache_read/cache_write/reasoning tokens,
usage_source (upstream, estimated, or null without usage), cost_usd (null when not
known), unpriced_reason (why it is null), error (the error's class name) and attempts
(target, status, error class for each). No key, prompt, answer or error message is ever logged.

Metrics (one registry per gateway; label values come from config, never from clients):

* ``proxy_core_requests_total{operation,route,model,status}``
* ``proxy_core_request_duration_seconds{operation,route}`` (histogram)
* ``proxy_core_time_to_first_token_seconds{operation,route}`` (histogram, streams)
* ``proxy_core_tokens_total{route,model,kind}``: kind = input, output, cache_read,
  cache_write, reasoning (input counts cache reads and writes too)
* ``proxy_core_cost_usd_total{route,model}``
* ``proxy_core_upstream_errors_total{account,model,status}``
* ``proxy_core_fallbacks_total{route,from_target,to_target}``
* ``proxy_core_retries_total{route,target}`` (another attempt on the same target)
* ``proxy_core_streams_in_flight``
* ``proxy_core_spend_records_pending`` / ``proxy_core_spend_records_lost_total`` when
  the cost plugin runs (lost = dropped + rejected + spilled)
* ``proxy_core_limits_store_errors_total`` / ``proxy_core_limits_refusals_total{kind}``
  when the limits plugin runs (kind = rpm, tpm, concurrency, budget)

``model`` is the target that served (``account/model``), ``-`` when none did; ``route``
is the route alias or the ``account/model`` name, ``-`` when the model did not resolve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response

from proxy_core import Attempt, RequestContext, hookimpl
from proxy_core.endpoints import authenticate_headers
from proxy_core.errors import ProxyError
from proxy_core.gateway import Gateway

from .tally import CounterTally, GaugeTally, HistogramTally, TallyCollector

access_log = structlog.get_logger("proxy_core.access")

NAME = "observability"
_LATENCY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_TTFT = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_STREAMING = NAME + ".streaming"


class Metrics:
    def __init__(self, gateway: Gateway) -> None:
        self.requests = CounterTally(
            "proxy_core_requests", "Client requests", ["operation", "route", "model", "status"]
        )
        self.latency = HistogramTally(
            "proxy_core_request_duration_seconds",
            "Time from request to the end of the response",
            ["operation", "route"],
            _LATENCY,
        )
        self.ttft = HistogramTally(
            "proxy_core_time_to_first_token_seconds",
            "Time from request to the first streamed bytes",
            ["operation", "route"],
            _TTFT,
        )
        self.tokens = CounterTally("proxy_core_tokens", "Tokens billed", ["route", "model", "kind"])
        self.cost = CounterTally("proxy_core_cost_usd", "Cost in US dollars", ["route", "model"])
        self.upstream_errors = CounterTally(
            "proxy_core_upstream_errors", "Failed upstream attempts", ["account", "model", "status"]
        )
        self.fallbacks = CounterTally(
            "proxy_core_fallbacks", "Moves to the next target", ["route", "from_target", "to_target"]
        )
        self.retries = CounterTally("proxy_core_retries", "Retries of the same target", ["route", "target"])
        self.streams = GaugeTally("proxy_core_streams_in_flight", "Streams being relayed")
        self.registry = CollectorRegistry(auto_describe=True)
        tallies = [self.requests, self.latency, self.ttft, self.tokens, self.cost]
        tallies += [self.upstream_errors, self.fallbacks, self.retries, self.streams]
        self.registry.register(TallyCollector(tallies))
        self.registry.register(_SpendCollector(gateway))
        self.registry.register(_LimitsCollector(gateway))


class _SpendCollector:
    """The cost plugin's writer backlog, read at scrape time."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        writer = getattr(self.gateway.state.get("cost"), "writer", None)
        if writer is None:
            return
        stats = writer.describe()
        yield GaugeMetricFamily("proxy_core_spend_records_pending", "Spend records not yet written", stats["pending"])
        lost = stats["dropped"] + stats["rejected"] + stats["spilled"]
        yield CounterMetricFamily("proxy_core_spend_records_lost", "Spend records not stored (all logged)", lost)


class _LimitsCollector:
    """The limits plugin's counters, read at scrape time."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        limits = self.gateway.state.get("limits")
        if limits is None:
            return
        yield CounterMetricFamily(
            "proxy_core_limits_store_errors", "Failed calls to the limits store (Redis)", limits.store_errors
        )
        refused = CounterMetricFamily("proxy_core_limits_refusals", "Requests refused by a limit", labels=["kind"])
        for kind, n in sorted(limits.refusals.items()):
            refused.add_metric([kind], n)
        yield refused


@dataclass
class ObservabilityState:
    metrics: Metrics | None
    access_log: bool


def _state(gateway: Gateway) -> ObservabilityState | None:
    state: ObservabilityState | None = gateway.state.get(NAME)
    return state


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    if gateway.config.plugin_section(NAME).get("metrics", True) is not False:
        register("/metrics", metrics_endpoint(gateway), methods=["GET"])


@hookimpl
def gateway_started(gateway: Gateway) -> None:
    if _state(gateway) is not None:
        return  # restarted: keep counting
    section = gateway.config.plugin_section(NAME)
    metrics = Metrics(gateway) if section.get("metrics", True) is not False else None
    gateway.state[NAME] = ObservabilityState(metrics, access_log=section.get("access_log", True) is not False)


@hookimpl
def response_headers(ctx: RequestContext, headers: dict[str, str]) -> None:
    state = _state(ctx.gateway)
    if state is not None and state.metrics is not None and ctx.stream and ctx.outcome is None:
        ctx.state[_STREAMING] = True  # a stream is about to start
        state.metrics.streams.value += 1


@hookimpl
def on_attempt_end(ctx: RequestContext, attempt: Attempt) -> None:
    state = _state(ctx.gateway)
    if state is None or state.metrics is None or attempt.error is None or attempt.error.status == 499:
        return
    target = attempt.target
    status = str(attempt.status or attempt.error.status)
    state.metrics.upstream_errors.add((target.account, target.model, status))


@hookimpl
def on_request_end(ctx: RequestContext) -> None:
    state = _state(ctx.gateway)
    if state is None:
        return
    facts = _facts(ctx)
    if state.metrics is not None:
        _count(ctx, state.metrics, facts)
    if state.access_log:
        access_log.info("request", **facts)


def _facts(ctx: RequestContext) -> dict[str, Any]:
    principal = ctx.principal
    route = ctx.route
    served = ctx.served_by or (ctx.attempts[-1] if ctx.attempts and ctx.usage else None)
    tokens = _tokens(ctx)
    bill = ctx.state.get("cost")
    latency, ttft = ctx.latency_s, ctx.ttft_s
    return {
        "request_id": ctx.request_id,
        "key": principal.name if principal else None,
        "user": principal.user if principal else None,
        "operation": ctx.operation.name,
        "model": ctx.requested_model if route is not None else None,
        "route": (route.alias or route.name) if route else None,
        "target": served.target.name if served else None,
        "status": ctx.status,
        "outcome": ctx.outcome,
        "stream": ctx.stream,
        "latency_ms": round(latency * 1000, 3) if latency is not None else None,
        "ttft_ms": round(ttft * 1000, 3) if ttft is not None else None,
        **tokens,
        "usage_source": (ctx.usage_source or "upstream") if ctx.usage is not None else None,
        "cost_usd": getattr(bill, "cost_usd", None),
        "unpriced_reason": getattr(bill, "unpriced_reason", None),
        "error": type(ctx.error).__name__ if ctx.error is not None else None,
        "attempts": [
            {"target": a.target.name, "status": a.status, "error": type(a.error).__name__ if a.error else None}
            for a in ctx.attempts
        ],
    }


def _tokens(ctx: RequestContext) -> dict[str, int]:
    bill = ctx.state.get("cost")
    if bill is not None:
        t = bill.tokens
        return {
            "input_tokens": t.prompt_total,
            "output_tokens": t.output,
            "cache_read_tokens": t.cache_read,
            "cache_write_tokens": t.cache_write,
            "reasoning_tokens": t.reasoning,
        }
    usage = ctx.usage or {}
    p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return {"input_tokens": p if isinstance(p, int) else 0, "output_tokens": c if isinstance(c, int) else 0}


def _count(ctx: RequestContext, m: Metrics, facts: dict[str, Any]) -> None:
    if ctx.state.pop(_STREAMING, False):
        m.streams.value -= 1
    op = ctx.operation.name
    route = facts["route"] or "-"
    model = facts["target"] or "-"
    m.requests.add((op, route, model, str(ctx.status or 0)))
    if ctx.latency_s is not None:
        m.latency.observe((op, route), ctx.latency_s)
    if ctx.ttft_s is not None:
        m.ttft.observe((op, route), ctx.ttft_s)
    for kind in ("input", "output", "cache_read", "cache_write", "reasoning"):
        n = facts.get(kind + "_tokens") or 0
        if n:
            m.tokens.add((route, model, kind), n)
    if facts["cost_usd"]:
        m.cost.add((route, model), facts["cost_usd"])
    for failed, nxt in zip(ctx.attempts, ctx.attempts[1:], strict=False):
        if nxt.target is failed.target:
            m.retries.add((route, failed.target.name))
        else:
            m.fallbacks.add((route, failed.target.name, nxt.target.name))


def metrics_endpoint(gateway: Gateway) -> Any:
    async def endpoint(request: Request) -> Response:
        if not gateway.started:
            await gateway.start()
        if gateway.config.plugin_section(NAME).get("metrics_auth", "none") == "admin":
            denied = await _check_admin(gateway, request)
            if denied is not None:
                return denied
        state = _state(gateway)
        if state is None or state.metrics is None:
            return Response(b"", 503)
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint


async def _check_admin(gateway: Gateway, request: Request) -> Response | None:
    try:
        await authenticate_headers(gateway, request.headers, request.url.path, admin=True)
    except ProxyError as e:
        return Response(e.body_for("openai"), e.status, media_type="application/json")
    return None
