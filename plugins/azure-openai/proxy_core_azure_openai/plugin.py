"""Azure OpenAI upstreams (provider type ``azure-openai``)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl

from .provider import AzureOpenAIProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(AzureOpenAIProvider.type_name, AzureOpenAIProvider)
