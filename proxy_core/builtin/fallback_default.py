"""Default fallback decision: move on for overload, rate limits, 5xx, timeouts, connect errors."""

from __future__ import annotations

from ..context import Attempt, RequestContext
from ..errors import ProxyError
from ..hookspecs import hookimpl

FALLBACK_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


@hookimpl(trylast=True)
def should_fallback(ctx: RequestContext, attempt: Attempt, error: ProxyError) -> bool:
    return error.status in FALLBACK_STATUSES
