"""Ollama upstreams (provider type ``ollama``): the OpenAI wire format with
Ollama's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl
from proxy_core.config import ProviderConfig


class OllamaProvider(OpenAICompatibleProvider):
    type_name = "ollama"
    default_base_url = "http://localhost:11434/v1"
    settings_model = ProviderConfig  # a local server takes no key
    capabilities = frozenset({"response_format"})  # JSON mode and json_schema (format)
    unsupported_params = frozenset({"logit_bias", "user"})  # not in Ollama's supported fields
    single_choice = True


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(OllamaProvider.type_name, OllamaProvider)
