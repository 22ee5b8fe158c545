"""Rate limits and budgets: admission in ``authorize``, settlement in ``on_request_end``.

Every rule of ``plugins.limits.rules`` that matches a request applies, plus the
run-time key's own limits (``Principal.limits``). Admission checks and reserves all of
them in one store call (one Redis round trip); settlement replaces the reservations
with the real usage and cost in one more, after the response. See README.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from proxy_core_cost.prices import PriceTable, Tokens, cost_usd, split_usage

from proxy_core import RequestContext, hookimpl
from proxy_core.errors import ServiceUnavailableError
from proxy_core.gateway import Gateway
from proxy_core.sqlstore import redact
from proxy_core.tasks import spawn

from . import config as config_mod
from .refusal import refusal, success_headers
from .rules import CONCURRENCY, DAY, MONTH, NANO, RPM, TPM, Limit, Rule, compile_rules, key_limits
from .store import Check, Decision, MemoryStore, RedisStore, Store, StoreUnavailable, settlement

log = structlog.get_logger("proxy_core.limits")

NAME = "limits"
# Operations that cost tokens; count_tokens and /files are not limited.
LIMITED_OPERATIONS = frozenset({"chat", "messages"})
_PRICES = PriceTable.shipped()


@dataclass(slots=True)
class Admission:
    """One request's reservations, kept in ``ctx.state["limits"]`` until it is settled."""

    checks: list[Check]
    decision: Decision


@dataclass
class LimitsState:
    config: config_mod.LimitsConfig
    rules: list[Rule]
    store: Store
    prices: PriceTable
    shared: bool
    # request id -> concurrency keys it holds (Redis leases renewed while it runs)
    leases: dict[str, list[str]] = field(default_factory=dict)
    renewer: asyncio.Task[None] | None = None
    store_errors: int = 0  # failed store calls, for /metrics
    refusals: Counter[str] = field(default_factory=Counter)  # by kind, for /metrics
    store_down: bool = False
    last_warning: float = float("-inf")
    errors_since_warning: int = 0
    _key_limits: dict[str, tuple[Mapping[str, Any] | None, tuple[Limit, ...]]] = field(default_factory=dict)

    def limits_of_key(self, ctx: RequestContext) -> tuple[Limit, ...]:
        principal = ctx.principal
        assert principal is not None
        if not principal.limits:
            return ()
        cached = self._key_limits.get(principal.name)
        if cached is not None and cached[0] is principal.limits:
            return cached[1]
        limits = key_limits(self.config, principal)
        self._key_limits[principal.name] = (principal.limits, limits)
        return limits

    def failed(self, error: StoreUnavailable, during: str) -> None:
        """Count a store failure; warn at most once per ``warn_interval_s``."""
        self.store_errors += 1
        self.errors_since_warning += 1
        self.store_down = True
        now = time.monotonic()
        if now - self.last_warning >= self.config.warn_interval_s:
            log.warning(
                "limits.store_unavailable",
                store=redact(self.config.redis or ""),
                during=during,
                on_store_error=self.config.on_store_error,
                failures=self.errors_since_warning,
                error=str(error),
            )
            self.last_warning = now
            self.errors_since_warning = 0

    def settled(self, error: StoreUnavailable | None) -> None:
        if error is None:
            self.answered()
        else:
            # Reservations stay: tpm leaves the window within a minute, a lease expires
            # within concurrency_lease_s, a budget keeps the (larger) reserved amount.
            self.failed(error, "settle")

    def answered(self) -> None:
        if self.store_down:
            self.store_down = False
            log.info("limits.store_recovered", store=redact(self.config.redis or ""))


def _state(gateway: Gateway) -> LimitsState | None:
    state: LimitsState | None = gateway.state.get(NAME)
    return state


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    # The first hook with the gateway at construction: a bad section stops start-up here,
    # with errors naming the path (plugins.limits.rules.0.rpm: ...).
    config_mod.parse(gateway.config.plugin_section(NAME))


@hookimpl
async def gateway_started(gateway: Gateway) -> None:
    if _state(gateway) is not None:
        return
    cfg = config_mod.parse(gateway.config.plugin_section(NAME))
    store: Store
    if cfg.redis:
        store = RedisStore(cfg.redis, timeout_s=cfg.store_timeout_s, lease_ms=int(cfg.concurrency_lease_s * 1000))
    else:
        store = MemoryStore()
    state = LimitsState(cfg, compile_rules(cfg), store, PriceTable(_PRICES.models, _PRICES.sources), bool(cfg.redis))
    gateway.state[NAME] = state
    try:
        await store.start()
    except StoreUnavailable as e:
        state.failed(e, "start")
    if state.shared:
        state.renewer = spawn(_renew_leases(state), name="limits-lease-renewer")
    log.info(
        "limits.started",
        store=redact(cfg.redis) if cfg.redis else "memory",
        rules=len(state.rules),
        on_store_error=cfg.on_store_error,
    )


@hookimpl
async def gateway_stopping(gateway: Gateway) -> None:
    state = gateway.state.pop(NAME, None)
    if not isinstance(state, LimitsState):
        return
    if state.renewer is not None:
        state.renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.renewer
    await state.store.close()


async def _renew_leases(state: LimitsState) -> None:
    """Extend the concurrency leases of this replica's running requests, all in one call."""
    period = state.config.concurrency_lease_s / 3
    while True:
        await asyncio.sleep(period)
        leases = [(key, rid) for rid, keys in state.leases.items() for key in keys]
        if not leases:
            continue
        try:
            await state.store.renew(leases)
        except StoreUnavailable as e:
            state.failed(e, "renew")


# --- admission -------------------------------------------------------------------------


class _Admit:
    """The admission, started only when the core awaits it: if an earlier ``authorize``
    refuses the request, this is never awaited, and nothing was reserved or left pending."""

    __slots__ = ("ctx", "limits", "state")

    def __init__(self, state: LimitsState, ctx: RequestContext, limits: list[Limit]) -> None:
        self.state, self.ctx, self.limits = state, ctx, limits

    def __await__(self) -> Generator[Any, None, None]:
        return _admit(self.state, self.ctx, self.limits).__await__()


@hookimpl(trylast=True)  # after access checks: a request refused 403 reserves nothing
def authorize(ctx: RequestContext) -> _Admit | None:
    state = _state(ctx.gateway)
    if state is None or ctx.principal is None or ctx.route is None or ctx.operation.name not in LIMITED_OPERATIONS:
        return None
    route = ctx.route
    models = (ctx.requested_model or "", route.name, *(t.name for t in route.targets))
    limits = [limit for rule in state.rules if rule.matches(ctx.principal, models) for limit in rule.limits]
    limits += state.limits_of_key(ctx)
    if not limits:
        return None
    return _Admit(state, ctx, limits)


def _demand(state: LimitsState, ctx: RequestContext, limits: list[Limit]) -> tuple[int, int]:
    """(tokens, nano-dollars) to reserve: max_tokens (or the model's output limit) plus
    the body's bytes / 4 for the input, priced at the dearest target of the route."""
    assert ctx.route is not None
    targets = ctx.route.targets
    body = ctx.body
    output = _positive_int(body.get("max_completion_tokens")) or _positive_int(body.get("max_tokens"))
    if output is None:
        default = state.config.default_output_tokens
        output = max(_model_output_limit(t.info) or default for t in targets)
    prompt = -(-len(ctx.raw_body) // 4)
    nano = 0
    if any(limit.kind in (DAY, MONTH) for limit in limits):
        tokens = Tokens(input=prompt, output=output)
        for target in targets:
            price = state.prices.price(target.model, target.info)
            if price is not None:
                nano = max(nano, round(cost_usd(tokens, price) * NANO))
    return prompt + output, nano


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _model_output_limit(info: Mapping[str, Any]) -> int | None:
    return _positive_int(info.get("max_output_tokens")) or _positive_int(info.get("max_tokens"))


async def _admit(state: LimitsState, ctx: RequestContext, limits: list[Limit]) -> None:
    tokens, nano = _demand(state, ctx, limits)
    amounts = {RPM: 1, CONCURRENCY: 1, TPM: tokens, DAY: nano, MONTH: nano}
    checks = [Check(limit, amounts[limit.kind]) for limit in limits]
    try:
        decision = await state.store.admit(ctx.request_id, checks)
    except StoreUnavailable as e:
        state.failed(e, "admit")
        if state.config.on_store_error == "deny":
            raise ServiceUnavailableError(
                "rate limits and budgets cannot be checked right now (the limits store is unreachable); retry shortly",
                code="limits_store_unavailable",
                headers={"retry-after": "1"},
            ) from None
        return  # allow: served without limits while the store is down
    state.answered()
    if not decision.admitted:
        error = refusal(checks, decision)
        state.refusals[_kind_of(checks, decision)] += 1
        raise error
    ctx.state[NAME] = Admission(checks, decision)
    if state.shared:
        held = [c.limit.key for c in checks if c.limit.kind == CONCURRENCY]
        if held:
            state.leases[ctx.request_id] = held


def _kind_of(checks: list[Check], decision: Decision) -> str:
    assert decision.refused is not None
    kind = checks[decision.refused].limit.kind
    return "budget" if kind in (DAY, MONTH) else kind


@hookimpl
def response_headers(ctx: RequestContext, headers: dict[str, str]) -> None:
    admission = ctx.state.get(NAME)
    if isinstance(admission, Admission):
        headers.update(success_headers(admission.checks, admission.decision))


# --- settlement ------------------------------------------------------------------------


@hookimpl
def on_request_end(ctx: RequestContext) -> None:
    admission = ctx.state.pop(NAME, None)  # popped: settled exactly once
    state = _state(ctx.gateway)
    if not isinstance(admission, Admission) or state is None:
        return
    state.leases.pop(ctx.request_id, None)
    # (A client that left while its admission was in flight has no Admission here: the
    # store undoes that admission itself when the answer comes.)
    tokens, nano = _real(state, ctx, admission)
    plan = settlement(admission.checks, admission.decision, tokens, nano)
    if plan.ops:
        # Not awaited: the response is out and nothing here needs the answer.
        state.store.settle(ctx.request_id, plan, state.settled)


def _real(state: LimitsState, ctx: RequestContext, admission: Admission) -> tuple[int, int]:
    """The real (tokens, nano-dollars) of a finished request.

    Usage known (the provider's, or the core's estimate of what a client that left early
    consumed): that. No usage on a failed request: nothing was consumed, all is refunded.
    No usage on a completed one (a provider that reports none): the reservation stands.
    """
    usage = ctx.usage
    if not usage:
        if ctx.outcome == "completed":
            reserved = {c.limit.kind: c.amount for c in admission.checks}
            return reserved.get(TPM, 0), reserved.get(DAY, reserved.get(MONTH, 0))
        return 0, 0
    tokens = split_usage(usage)
    total = tokens.prompt_total + tokens.output
    attempt = ctx.served_by or (ctx.attempts[-1] if ctx.attempts else None)
    nano = 0
    if attempt is not None and any(c.limit.kind in (DAY, MONTH) for c in admission.checks):
        price = state.prices.price(attempt.target.model, attempt.target.info)
        if price is not None:
            nano = round(cost_usd(tokens, price) * NANO)
    return total, nano
