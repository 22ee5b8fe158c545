"""Fireworks AI upstreams (provider type ``fireworks``): the OpenAI wire format with
Fireworks AI's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl


class FireworksProvider(OpenAICompatibleProvider):
    type_name = "fireworks"
    default_base_url = "https://api.fireworks.ai/inference/v1"
    capabilities = frozenset({"response_format"})  # JSON mode and json_schema on every model


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(FireworksProvider.type_name, FireworksProvider)
