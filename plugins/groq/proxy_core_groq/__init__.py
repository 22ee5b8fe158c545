"""Groq upstreams (provider type ``groq``): the OpenAI wire format with
Groq's parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import hookimpl


class GroqProvider(OpenAICompatibleProvider):
    type_name = "groq"
    default_base_url = "https://api.groq.com/openai/v1"
    # console.groq.com/docs/openai: these are a 400 there; n must be 1.
    unsupported_params = frozenset({"logprobs", "top_logprobs", "logit_bias"})
    unsupported_message_fields = frozenset({"name"})
    single_choice = True


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(GroqProvider.type_name, GroqProvider)
