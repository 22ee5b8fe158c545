"""What clients see: the 429 that names the rule and kind, and the x-ratelimit-* headers."""

from __future__ import annotations

import calendar
import math
import time

from proxy_core.errors import RateLimitError

from .rules import CONCURRENCY, DAY, MONTH, NANO, RPM, TPM
from .scripts import WINDOW_MS
from .store import Check, Decision

_KIND_WORD = {RPM: "rpm", TPM: "tpm", CONCURRENCY: "concurrency", DAY: "budget", MONTH: "budget"}


def duration(ms: int) -> str:
    """OpenAI's reset format: ``250ms``, ``12s``, ``1m5s``."""
    ms = max(0, ms)
    if ms < 1000:
        return f"{ms}ms"
    seconds = math.ceil(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def _until_period_end(kind: str, now_ms: int) -> int:
    """Seconds until the UTC day or month of ``now_ms`` ends."""
    now_s = now_ms // 1000
    if kind == DAY:
        return 86_400 - now_s % 86_400
    t = time.gmtime(now_s)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) - now_s


def _tightest(checks: list[Check], decision: Decision, kind: str, admitted: bool) -> tuple[int, int, int] | None:
    """(limit, remaining, ms until the window frees) of the kind's tightest limit."""
    best: tuple[int, int, int] | None = None
    for i, check in enumerate(checks):
        if check.limit.kind != kind:
            continue
        used = decision.used[i] + (check.amount if admitted else 0)
        remaining = max(0, check.limit.limit - used)
        free = decision.frees_ms[i] or (WINDOW_MS if admitted else 0)
        if best is None or remaining < best[1]:
            best = (check.limit.limit, remaining, free)
    return best


def _put(headers: dict[str, str], family: str, values: tuple[int, int, int]) -> None:
    limit, remaining, free = values
    headers[f"x-ratelimit-limit-{family}"] = str(limit)
    headers[f"x-ratelimit-remaining-{family}"] = str(remaining)
    headers[f"x-ratelimit-reset-{family}"] = duration(free)


def success_headers(checks: list[Check], decision: Decision) -> dict[str, str]:
    headers: dict[str, str] = {}
    for kind, family in ((RPM, "requests"), (TPM, "tokens")):
        values = _tightest(checks, decision, kind, admitted=True)
        if values is not None:
            _put(headers, family, values)
    return headers


def refusal(checks: list[Check], decision: Decision) -> RateLimitError:
    """The 429 for a refused admission: the first refusing limit names its rule and kind."""
    assert decision.refused is not None
    i = decision.refused
    check = checks[i]
    limit, kind = check.limit, check.limit.kind
    used, amount, free = decision.used[i], check.amount, decision.frees_ms[i]
    headers: dict[str, str] = {}
    for k, family in ((RPM, "requests"), (TPM, "tokens")):
        values = _tightest(checks, decision, k, admitted=False)
        if values is not None:
            _put(headers, family, values)
    if kind in (RPM, TPM):
        family = "requests" if kind == RPM else "tokens"
        _put(headers, family, (limit.limit, 0, free))
        retry_s = math.ceil(free / 1000) if amount <= limit.limit else 60
        what = "requests" if kind == RPM else "tokens"
        message = f"rate limit exceeded (rpm): {limit.owner} allows {limit.limit} requests per minute"
        if kind == TPM:
            message = f"rate limit exceeded (tpm): {limit.owner} allows {limit.limit} tokens per minute; "
            if amount > limit.limit:
                message += (
                    f"this request alone reserves {amount} tokens (max_tokens or the model's output limit, "
                    "plus an input estimate): lower max_tokens"
                )
            else:
                message += f"{used} used or reserved in the last minute, this request needs {amount}"
        else:
            message += f"; {used} {what} in the last minute"
        code = "rate_limit_exceeded"
    elif kind == CONCURRENCY:
        _put(headers, "requests", (limit.limit, 0, 1000))
        retry_s = 1
        message = f"rate limit exceeded (concurrency): {limit.owner} allows {limit.limit} requests at a time"
        code = "rate_limit_exceeded"
    else:
        period = "day" if kind == DAY else "month"
        retry_s = _until_period_end(kind, decision.now_ms)
        message = (
            f"budget exceeded: {limit.owner} allows ${limit.limit / NANO:g} per UTC {period} (budget_usd.{period}); "
            f"${used / NANO:.6f} spent or reserved, this request reserves ${amount / NANO:.6f}"
        )
        code = "budget_exceeded"
    headers["retry-after"] = str(max(1, retry_s))
    return RateLimitError(message, code=code, headers=headers)
