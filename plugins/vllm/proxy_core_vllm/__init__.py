"""vLLM upstreams (provider type ``vllm``): the OpenAI wire format with
vLLM's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl
from proxy_core.config import ProviderConfig


class VLLMProvider(OpenAICompatibleProvider):
    type_name = "vllm"
    default_base_url = "http://localhost:8000/v1"
    settings_model = ProviderConfig  # the key is optional (vllm serve --api-key)
    capabilities = frozenset({"response_format"})  # guided decoding: json_object and json_schema


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(VLLMProvider.type_name, VLLMProvider)
