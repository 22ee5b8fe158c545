"""Together AI upstreams (provider type ``together``): the OpenAI wire format with
Together AI's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl


class TogetherProvider(OpenAICompatibleProvider):
    type_name = "together"
    default_base_url = "https://api.together.xyz/v1"
    # JSON mode on every model, json_schema where the model's info says so.


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(TogetherProvider.type_name, TogetherProvider)
