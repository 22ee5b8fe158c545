"""OpenRouter upstreams (provider type ``openrouter``): the OpenAI wire format with
OpenRouter's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl


class OpenRouterProvider(OpenAICompatibleProvider):
    type_name = "openrouter"
    default_base_url = "https://openrouter.ai/api/v1"
    # Passes OpenAI parameters on to the model's provider; reasoning comes back as `reasoning`.
    # json_schema where the model's info says native_structured_output (config).


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(OpenRouterProvider.type_name, OpenRouterProvider)
