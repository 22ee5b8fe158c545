from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl

from .provider import OpenAIProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register("openai", OpenAIProvider)
