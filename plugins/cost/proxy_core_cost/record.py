"""One spend record per client request, built from the request context."""

from __future__ import annotations

import operator
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .prices import cost_usd, split_usage

if TYPE_CHECKING:
    from proxy_core import RequestContext

    from .prices import PriceTable

COLUMNS = (
    "request_id",
    "ts",
    "day",
    "key_name",
    "user_name",
    "teams",
    "account",
    "model",
    "route",
    "requested_model",
    "operation",
    "stream",
    "status",
    "outcome",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "attempts",
    "usage_source",
    "unpriced_reason",
)

# Why a row has no cost (``cost_usd`` NULL): never recorded as 0.0.
NO_PRICE = "model has no price"
NO_USAGE = "usage unknown"
# Operations the providers bill by tokens; others (count_tokens, files) cost nothing.
# ``batches.results``: a Message Batch's results, billed when they are fetched.
_BILLED_OPERATIONS = frozenset({"chat", "messages", "batches.results"})
# Server tools billed per use: Anthropic's web search, USD 10 per 1,000 searches
# (platform.claude.com/docs/en/about-claude/pricing, read 2026-11-30).
WEB_SEARCH_USD = 0.01
# ``ctx.state`` key: a plugin's price factor on the request's tokens (batches: 0.5).
PRICE_FACTOR = "cost.price_factor"
# A record's values in column order, as one C-level call (a getattr per column was 3x slower).
_column_values = operator.attrgetter(*COLUMNS)


@dataclass(slots=True)
class SpendRecord:
    """A row of the spend table. ``input_tokens`` counts every input token, cache reads
    and writes included; ``cost_usd`` is None when the cost is not known, and
    ``unpriced_reason`` then says why (:data:`NO_PRICE` or :data:`NO_USAGE`).
    ``usage_source``: "upstream" (the provider reported usage), "estimated" (the core
    counted what was relayed to a client that left early), None (no usage)."""

    request_id: str
    ts: float  # unix seconds, when the request arrived
    day: str  # UTC date of ``ts``, YYYY-MM-DD
    key_name: str | None
    user_name: str | None
    teams: str  # comma-separated
    account: str | None  # the target that served (or last tried), never a key
    model: str | None
    route: str | None  # route alias, or the account/model name the client sent
    requested_model: str | None
    operation: str
    stream: bool
    status: int
    outcome: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    latency_ms: float
    ttft_ms: float | None
    attempts: int
    # Defaults: journal lines written before these columns existed still load.
    usage_source: str | None = None
    unpriced_reason: str | None = None

    def values(self) -> tuple[Any, ...]:
        values: tuple[Any, ...] = _column_values(self)
        return values

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Charge:
    """What a request cost and who served it; left in ``ctx.state["cost"]`` for other
    plugins (tracing, access logs, metrics) to read."""

    account: str | None
    model: str | None
    tokens: Any  # prices.Tokens
    cost_usd: float | None
    unpriced_reason: str | None = None  # why cost_usd is None


def charge(ctx: RequestContext, table: PriceTable) -> Charge:
    """Bill the attempt whose usage we have: the last one (a fallback's failed attempts
    produce no usage), whatever the outcome (a disconnected stream pays what it used).

    The cost is None, never 0.0, when the model has no price or when an upstream took
    the request (answered 2xx, or was cut off before answering) but no usage is known.
    A request no upstream accepted (refused before sending, upstream error) costs 0.0.
    """
    cached: Charge | None = ctx.state.get("cost")
    if cached is not None:
        return cached
    attempt = ctx.served_by or (ctx.attempts[-1] if ctx.attempts else None)
    tokens = split_usage(ctx.usage)
    cost: float | None = 0.0
    reason = None
    account = model = None
    if attempt is not None:
        account, model = attempt.target.account, attempt.target.model
        if ctx.usage:
            price = table.price(attempt.target.model, attempt.target.info)
            if price is None:
                cost, reason = None, NO_PRICE
            else:
                cost = round(cost_usd(tokens, price) * ctx.state.get(PRICE_FACTOR, 1.0) + _server_tools_usd(ctx), 10)
        elif _upstream_took(ctx, attempt):
            cost, reason = None, NO_USAGE
    result = Charge(account, model, tokens, cost, reason)
    ctx.state["cost"] = result
    return result


def _server_tools_usd(ctx: RequestContext) -> float:
    server = (ctx.usage or {}).get("server_tool_use")
    searches = server.get("web_search_requests") if isinstance(server, dict) else None
    return searches * WEB_SEARCH_USD if isinstance(searches, int) and searches > 0 else 0.0


def _upstream_took(ctx: RequestContext, attempt: Any) -> bool:
    """Did this attempt reach an upstream that may bill it? Sent, and either answered
    with a success status or never answered (the client left while it worked)."""
    if ctx.operation.name not in _BILLED_OPERATIONS or attempt.upstream_request is None:
        return False
    return attempt.status is None or attempt.status < 400


def usage_source(ctx: RequestContext) -> str | None:
    """Where the usage came from; usage the core did not label came from the upstream."""
    if ctx.usage is None:
        return None
    return ctx.usage_source or "upstream"


@lru_cache(maxsize=4)
def _utc_day(day_number: int) -> str:
    """YYYY-MM-DD of a day counted from the epoch: formatted once per day, not per record."""
    return time.strftime("%Y-%m-%d", time.gmtime(day_number * 86400))


def utc_day(ts: float) -> str:
    """The UTC date of unix time ``ts``, as ``time.strftime("%Y-%m-%d", time.gmtime(ts))``."""
    return _utc_day(int(ts // 86400))


def build(ctx: RequestContext, bill: Charge) -> SpendRecord:
    principal = ctx.principal
    route = ctx.route
    tokens = bill.tokens
    latency = ctx.latency_s
    ttft = ctx.ttft_s
    return SpendRecord(
        request_id=ctx.request_id,
        ts=ctx.started_wall,
        day=utc_day(ctx.started_wall),
        key_name=principal.name if principal else None,
        user_name=principal.user if principal else None,
        teams=",".join(principal.teams) if principal else "",
        account=bill.account,
        model=bill.model,
        route=(route.alias or route.name) if route else None,
        requested_model=ctx.requested_model,
        operation=ctx.operation.name,
        stream=ctx.stream,
        status=ctx.status or 0,
        outcome=ctx.outcome or "failed",
        input_tokens=tokens.prompt_total,
        output_tokens=tokens.output,
        cache_read_tokens=tokens.cache_read,
        cache_write_tokens=tokens.cache_write,
        reasoning_tokens=tokens.reasoning,
        cost_usd=bill.cost_usd,
        latency_ms=round((latency or 0.0) * 1000, 3),
        ttft_ms=round(ttft * 1000, 3) if ttft is not None else None,
        attempts=len(ctx.attempts),
        usage_source=usage_source(ctx),
        unpriced_reason=bill.unpriced_reason,
    )
