"""xAI (Grok) upstreams (provider type ``xai``): the OpenAI wire format with xAI's
parameter rules. See README.md for the rules and their sources."""

from __future__ import annotations

import re
from collections.abc import Callable

from proxy_core_openai import OpenAICompatibleProvider

from proxy_core import Attempt, RequestContext, UpstreamRequest, hookimpl
from proxy_core.errors import InvalidRequestError

CONVERSATION_HEADER = "x-grok-conv-id"  # xAI's cache routing key on Chat Completions
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]{1,256}$")


class XAIProvider(OpenAICompatibleProvider):
    type_name = "xai"
    default_base_url = "https://api.x.ai/v1"
    # Structured outputs on every Grok model; `prompt_cache_key` becomes x-grok-conv-id.
    # Reasoning models' rejected parameters and reasoning_effort are model-table data.
    capabilities = frozenset({"response_format", "prompt_cache_key"})

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        key = attempt.body.pop("prompt_cache_key", None)
        request = super().build_request(ctx, attempt)
        if isinstance(key, str):
            if not _HEADER_SAFE.match(key):
                raise InvalidRequestError(
                    "'prompt_cache_key' must be 1 to 256 printable ASCII characters without spaces on xAI "
                    f"(it is sent as the {CONVERSATION_HEADER} header)",
                    param="prompt_cache_key",
                )
            request.headers[CONVERSATION_HEADER] = key
        return request


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(XAIProvider.type_name, XAIProvider)
