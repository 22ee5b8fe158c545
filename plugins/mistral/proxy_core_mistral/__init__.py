"""Mistral AI upstreams (provider type ``mistral``): the OpenAI wire format with
Mistral AI's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl


class MistralProvider(OpenAICompatibleProvider):
    type_name = "mistral"
    default_base_url = "https://api.mistral.ai/v1"
    # Mistral rejects unknown fields (422): everything but its own parameters is dropped.
    accepted_params = frozenset(
        {
            "messages", "temperature", "top_p", "max_tokens", "stop", "random_seed", "response_format",
            "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n", "prediction",
            "parallel_tool_calls", "safe_prompt", "prompt_mode",
        }
    )  # fmt: skip
    renamed_params = {"seed": "random_seed", "max_completion_tokens": "max_tokens"}
    unsupported_message_fields = frozenset({"reasoning_content", "refusal"})
    capabilities = frozenset({"response_format"})  # JSON mode and custom structured outputs
    stream_usage_option = False  # usage comes in the last chunk; stream_options is not a field


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(MistralProvider.type_name, MistralProvider)
