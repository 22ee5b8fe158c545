"""DeepSeek upstreams (provider type ``deepseek``): the OpenAI wire format with
DeepSeek's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl


class DeepSeekProvider(OpenAICompatibleProvider):
    type_name = "deepseek"
    default_base_url = "https://api.deepseek.com"
    # api-docs.deepseek.com reasoning_model: an echoed reasoning_content is a 400.
    unsupported_message_fields = frozenset({"reasoning_content"})
    capabilities = frozenset({"json_object"})  # JSON Output; no json_schema: a forced tool


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(DeepSeekProvider.type_name, DeepSeekProvider)
