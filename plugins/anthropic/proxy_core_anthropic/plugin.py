"""Anthropic Messages API upstreams (provider type ``anthropic``)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl

from .provider import AnthropicProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register("anthropic", AnthropicProvider)
