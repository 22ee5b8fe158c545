"""Anthropic Messages API upstreams (provider type ``anthropic``), and the Messages API
on every other provider (the ``operation_bridge`` hook, see :mod:`.bridge`)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import Attempt, RequestContext, hookimpl
from proxy_core.operations import OperationBridge

from . import bridge
from .provider import AnthropicProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register("anthropic", AnthropicProvider)


@hookimpl
def operation_bridge(ctx: RequestContext, attempt: Attempt) -> OperationBridge | None:
    return bridge.operation_bridge(ctx, attempt)
