"""Anthropic Messages API upstreams (provider type ``anthropic``)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import RequestContext, hookimpl

from .provider import DROPPED_NOTE, AnthropicProvider

DROPPED_HEADER = "x-proxy-core-dropped-params"


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register("anthropic", AnthropicProvider)


@hookimpl
def response_headers(ctx: RequestContext, headers: dict[str, str]) -> None:
    """Name the OpenAI-only parameters the served attempt did not forward."""
    served = ctx.served_by
    if served is not None:
        dropped = served.notes.get(DROPPED_NOTE)
        if dropped:
            headers[DROPPED_HEADER] = ",".join(dropped)
