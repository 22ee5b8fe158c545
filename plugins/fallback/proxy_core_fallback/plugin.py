"""Retries with jittered backoff (honouring Retry-After), fallback to the next target,
timeouts (connect, first token, idle, total), passive health and a retry budget.

Header ``x-proxy-core-first-token-timeout`` (seconds, 0 < t <= 600) tightens the time-to-
first-token limit of one request, for the keys ``client_first_token_timeout`` allows
(none by default). The core holds a stream until its first substantive item, so every
decision here is taken before any byte reached the client.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass

import structlog

from proxy_core import Attempt, RequestContext, Target, hookimpl
from proxy_core.context import Timeouts
from proxy_core.errors import (
    GatewayTimeoutError,
    InvalidRequestError,
    ProviderNotConfiguredError,
    ProxyError,
    UpstreamConnectionError,
    UpstreamError,
)
from proxy_core.gateway import Gateway

from .budget import RetryBucket
from .health import HealthBook
from .policy import ClientFirstTokenTimeout, FallbackReason, Policy, Settings, build

log = structlog.get_logger("proxy_core.fallback")

TTFT_HEADER = "x-proxy-core-first-token-timeout"
_STATE = "fallback"
# attempt.notes key: the client's first-token limit, when it is the one in force.
_CLIENT_DEADLINE = "fallback.client_first_token_s"


@dataclass(slots=True)
class State:
    settings: Settings
    routes: dict[str, Policy]
    health: HealthBook
    budget: RetryBucket

    def policy(self, ctx: RequestContext) -> Policy:
        alias = ctx.route.alias if ctx.route is not None else None
        return self.routes.get(alias, self.settings) if alias else self.settings


def _state(gateway: Gateway) -> State:
    state: State | None = gateway.state.get(_STATE)
    if state is None:
        routes = {alias: dict(rc.model_extra or {}) for alias, rc in gateway.config.routes.items()}
        settings, per_route = build(gateway.config.plugin_section("fallback"), routes)
        state = gateway.state[_STATE] = State(
            settings, per_route, HealthBook(settings.health), RetryBucket(settings.retry_budget)
        )
    return state


@hookimpl
def gateway_started(gateway: Gateway) -> None:
    _state(gateway)  # validate the config at start-up, not on the first request


def _reason(error: ProxyError) -> FallbackReason | None:
    if isinstance(error, GatewayTimeoutError):
        return "timeout"
    if isinstance(error, UpstreamConnectionError):
        return "connect_error"
    return error.status


# --- per request -----------------------------------------------------------------------


@hookimpl
def authorize(ctx: RequestContext) -> None:
    state = _state(ctx.gateway)
    state.budget.on_request()
    total = state.policy(ctx).timeouts.total
    if total is not None and ctx.abort is not None:
        abort = ctx.abort
        handle = asyncio.get_running_loop().call_later(
            total, lambda: abort(GatewayTimeoutError(f"the request exceeded the gateway's total limit of {total:g}s"))
        )
        ctx.state[_STATE] = handle


@hookimpl
def select_targets(ctx: RequestContext, targets: list[Target]) -> list[Target] | None:
    health = _state(ctx.gateway).health
    if not health.any_cooling():
        return None  # the usual case: every target is healthy, no clock read, no copies
    now = time.monotonic()
    cooling = {t.name: health.cooling_until(t.name, now) for t in targets}
    healthy = [t for t in targets if cooling[t.name] is None]
    if len(healthy) == len(targets):
        return None
    if healthy:
        return healthy
    # Every target is cooling down: try the one that recovers first rather than none.
    return [min(targets, key=lambda t: cooling[t.name] or 0.0)]


@hookimpl
def on_request_end(ctx: RequestContext) -> None:
    handle = ctx.state.pop(_STATE, None)
    if handle is not None:
        handle.cancel()


# --- per attempt -----------------------------------------------------------------------


def _client_first_token(ctx: RequestContext, rule: ClientFirstTokenTimeout) -> float | None:
    """The first-token limit this client asks for, if its key may ask (else None)."""
    value = ctx.headers.get(TTFT_HEADER)
    if value is None or not rule.allow:
        return None
    if rule.keys is not None and (ctx.principal is None or ctx.principal.name not in rule.keys):
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise InvalidRequestError(f"header {TTFT_HEADER} must be a number of seconds in (0, 600]")
    return max(seconds, rule.min_s)


def _client_deadline_hit(attempt: Attempt, error: ProxyError | None) -> bool:
    """Did this attempt time out because of the client's own, tighter limit? Any timeout
    at or after the client's deadline is its doing: the operator's limit was further."""
    deadline = attempt.notes.get(_CLIENT_DEADLINE)
    if deadline is None or not isinstance(error, GatewayTimeoutError):
        return False
    ended = attempt.ended if attempt.ended is not None else time.monotonic()
    return bool(ended - attempt.started >= deadline)


@hookimpl
def prepare_request(ctx: RequestContext, attempt: Attempt) -> None:
    state = _state(ctx.gateway)
    limits = state.policy(ctx).timeouts
    first_token = limits.first_token
    asked = _client_first_token(ctx, state.settings.client_first_token_timeout)
    if asked is not None and (first_token is None or asked < first_token):
        first_token = asked  # the client may only tighten the operator's limit
        attempt.notes[_CLIENT_DEADLINE] = asked
    attempt.timeouts = Timeouts(connect=limits.connect, first_token=first_token, idle=limits.idle)


@hookimpl
def on_attempt_end(ctx: RequestContext, attempt: Attempt) -> None:
    health = _state(ctx.gateway).health
    error = attempt.error
    if _client_deadline_hit(attempt, error):
        return  # says nothing about the target's health
    if error is None:
        health.succeeded(attempt.target.name)
    elif isinstance(error, UpstreamError | GatewayTimeoutError | UpstreamConnectionError) and (
        error.status >= 500 or error.status == 429
    ):
        health.failed(attempt.target.name)


@hookimpl
def retry_delay(ctx: RequestContext, attempt: Attempt, error: ProxyError) -> float | None:
    state = _state(ctx.gateway)
    retry = state.policy(ctx).retry
    if attempt.retry + 1 >= retry.attempts or isinstance(error, ProviderNotConfiguredError):
        return None
    if _client_deadline_hit(attempt, error):
        return None  # the client's own deadline: no retry, no budget spent
    reason = _reason(error)
    wanted = (
        (reason == "timeout" and retry.on_timeout)
        or (reason == "connect_error" and retry.on_connect_error)
        or (isinstance(reason, int) and reason in retry.on_status)
    )
    if not wanted:
        return None
    after = retry_after_s(error.headers.get("retry-after"))
    if after is not None and after > retry.retry_after_cap_s:
        return None  # the provider asks for a longer pause than we wait: fall back instead
    if not state.budget.take():
        log.warning("retry.budget_exhausted", request_id=ctx.request_id, target=attempt.target.name)
        return None
    ceiling = min(retry.max_backoff_ms, retry.backoff_ms * 2**attempt.retry) / 1000
    jittered = random.uniform(ceiling / 2, ceiling)
    return max(jittered, after) if after is not None else jittered


@hookimpl(tryfirst=True)
def should_fallback(ctx: RequestContext, attempt: Attempt, error: ProxyError) -> bool:
    if isinstance(error, ProviderNotConfiguredError):
        return True
    if _client_deadline_hit(attempt, error):
        return False  # the client chose the deadline: it gets its 504
    return _reason(error) in _state(ctx.gateway).policy(ctx).fallback_on


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
