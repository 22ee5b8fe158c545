"""OpenAI-compatible upstreams with parameter rules of their own (Groq, xAI, Mistral...).

A provider type of the family is a subclass setting class attributes (a declarative
parameter table); this module applies them per attempt, after the feature plugins
(reasoning, structured-output, prompt-cache) have adapted the request:

* ``unsupported_params``, plus the model's ``unsupported_params`` list from the model
  table (``proxy_core/data/models.yaml``) or config: removed, and named in the
  ``x-proxy-core-dropped-params`` response header;
* ``accepted_params``: when set, every other top-level parameter is removed likewise
  (for upstreams that reject unknown fields);
* ``renamed_params``: moved to the provider's own name (``seed`` -> ``random_seed``);
* ``unsupported_message_fields``: removed from every message (``messages[].name`` on
  Groq, an echoed ``reasoning_content`` on DeepSeek), named as ``messages[].<field>``;
* ``single_choice``: ``n`` above 1 is a 400 (the provider returns one choice).

Answers: a reasoning text in ``reasoning`` (Groq, OpenRouter, Together, Ollama, vLLM) is
returned as ``reasoning_content``, in messages and in stream deltas alike; DeepSeek's
``prompt_cache_hit_tokens`` also fills ``prompt_tokens_details.cached_tokens``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from proxy_core import Attempt, RequestContext, UpstreamRequest
from proxy_core.config import ProviderConfig
from proxy_core.errors import InvalidRequestError
from proxy_core.sse import SSEEvent

from .provider import OpenAIProvider, OpenAIStream

DROPPED_HEADER = "x-proxy-core-dropped-params"
# Never forwarded to any compatible upstream: Anthropic-only echoes of earlier answers.
_ANTHROPIC_ONLY_FIELDS = frozenset({"thinking_blocks"})
# Handled by the base adapter whatever the allow-list says.
_ALWAYS_KEPT = frozenset({"model", "stream", "stream_options"})


class KeyedProviderConfig(ProviderConfig):
    """An account whose upstream requires an API key (``${VAR}`` unset: a 503 naming it)."""

    api_key: SecretStr


class OpenAICompatibleProvider(OpenAIProvider):
    """Base of the OpenAI-compatible family; subclasses declare their rules."""

    settings_model: ClassVar[type[ProviderConfig]] = KeyedProviderConfig
    # Native response_format: json_object always; json_schema where the model's info says
    # native_structured_output (else the structured-output plugin forces a tool).
    # "response_format" instead means every model takes both natively.
    capabilities = frozenset({"json_object", "json_schema"})
    unsupported_params: ClassVar[frozenset[str]] = frozenset()
    accepted_params: ClassVar[frozenset[str] | None] = None
    renamed_params: ClassVar[dict[str, str]] = {}
    unsupported_message_fields: ClassVar[frozenset[str]] = frozenset()
    single_choice: ClassVar[bool] = False

    def auth_headers(self) -> dict[str, str]:
        key = self.api_key
        return {"authorization": "Bearer " + key} if key else {}

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        dropped = self.apply_rules(attempt.body, attempt.target.info)
        if dropped:
            attempt.response_headers[DROPPED_HEADER] = ",".join(dropped)
        return super().build_request(ctx, attempt)

    def apply_rules(self, body: dict[str, Any], info: dict[str, Any]) -> list[str]:
        """Apply this provider's and the model's parameter rules in place; the dropped names."""
        n = body.get("n")
        if self.single_choice and n is not None and n != 1:
            raise InvalidRequestError(f"'n' must be 1: {self.type_name} returns one choice", param="n")
        for old, new in self.renamed_params.items():
            value = body.pop(old, None)
            if value is not None and body.get(new) is None:
                body[new] = value
        rejected = set(self.unsupported_params)
        model_rules = info.get("unsupported_params")
        if isinstance(model_rules, list):
            rejected.update(name for name in model_rules if isinstance(name, str))
        accepted = self.accepted_params
        dropped = [
            name
            for name in list(body)
            if (name in rejected or (accepted is not None and name not in accepted and name not in _ALWAYS_KEPT))
            and body.pop(name) is not None
        ]
        removed = strip_message_fields(body, self.unsupported_message_fields | _ANTHROPIC_ONLY_FIELDS)
        return dropped + [f"messages[].{f}" for f in sorted(removed - _ANTHROPIC_ONLY_FIELDS)]

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        response = super().parse_response(ctx, attempt, data)
        for choice in response["choices"]:
            if isinstance(choice, dict) and isinstance(choice.get("message"), dict):
                _reasoning_as_reasoning_content(choice["message"])
        _cached_tokens(response.get("usage"))
        return response

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> CompatibleStream:
        return CompatibleStream(keep_usage=attempt.notes.get("openai.client_wants_usage", False))


class CompatibleStream(OpenAIStream):
    """OpenAI chunks with ``delta.reasoning`` renamed ``delta.reasoning_content``."""

    __slots__ = ()

    def feed(self, event: SSEEvent) -> list[Any]:
        chunks = super().feed(event)
        for chunk in chunks:
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") if isinstance(choice, dict) else None
                if isinstance(delta, dict) and "reasoning" in delta:
                    _reasoning_as_reasoning_content(delta)
            _cached_tokens(chunk.get("usage"))
        return chunks


def strip_message_fields(body: dict[str, Any], fields: frozenset[str]) -> set[str]:
    """Remove ``fields`` from every message; the names of those that carried a value."""
    removed: set[str] = set()
    for message in body.get("messages") or ():
        if isinstance(message, dict):
            removed.update(f for f in fields if message.pop(f, None) is not None)
    return removed


def _reasoning_as_reasoning_content(message: dict[str, Any]) -> None:
    text = message.pop("reasoning", None)
    if isinstance(text, str) and not message.get("reasoning_content"):
        message["reasoning_content"] = text


def _cached_tokens(usage: Any) -> None:
    """DeepSeek reports cache hits as ``prompt_cache_hit_tokens``: the canonical place too."""
    if not isinstance(usage, dict):
        return
    hits = usage.get("prompt_cache_hit_tokens")
    details = usage.get("prompt_tokens_details")
    if isinstance(hits, int) and not (isinstance(details, dict) and details.get("cached_tokens")):
        usage["prompt_tokens_details"] = {**(details if isinstance(details, dict) else {}), "cached_tokens": hits}
