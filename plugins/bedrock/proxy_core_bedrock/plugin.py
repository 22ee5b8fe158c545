"""Amazon Bedrock upstreams (provider type ``bedrock``)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl

from .provider import BedrockProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(BedrockProvider.type_name, BedrockProvider)
