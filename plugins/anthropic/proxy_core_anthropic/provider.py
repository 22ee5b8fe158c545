"""The ``anthropic`` provider type: the Messages API at api.anthropic.com.

Three operations: ``chat`` (OpenAI clients, translated by :mod:`.request`,
:mod:`.response`, :mod:`.stream`), ``messages`` and ``count_tokens`` (Anthropic clients,
passthrough: the body goes up as it came but for ``model``).

Providers of the same wire format (Claude Platform on AWS) subclass this and override
the small methods: :meth:`auth_headers`, :meth:`path`, :meth:`upstream_headers` or
:meth:`http_auth`; the translation modules are shared as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from proxy_core import Attempt, Provider, RequestContext, UpstreamRequest
from proxy_core.errors import UpstreamError
from proxy_core.provider import StreamTranslator

from .errors import error_from_body
from .params import default_max_tokens
from .request import chat_to_messages
from .response import message_to_chat, openai_usage
from .stream import ChatStream, PassthroughStream
from .validate import validate_native

DEFAULT_VERSION = "2023-06-01"
DROPPED_HEADER = "x-proxy-core-dropped-params"  # the OpenAI-only parameters not forwarded


class AnthropicProvider(Provider):
    type_name = "anthropic"
    default_base_url = "https://api.anthropic.com"
    operations = frozenset({"chat", "messages", "count_tokens"})
    capabilities = frozenset({"cache_control", "thinking", "output_config", "pdf", "vision", "tools", "count_tokens"})
    # operation -> path relative to base_url
    paths: ClassVar[dict[str, str]] = {
        "chat": "v1/messages",
        "messages": "v1/messages",
        "count_tokens": "v1/messages/count_tokens",
    }
    # client headers passed on as they are (anthropic-version gets a default)
    forwarded_headers: ClassVar[tuple[str, ...]] = ("anthropic-beta",)

    # --- overridable pieces ----------------------------------------------------------

    def path(self, ctx: RequestContext, attempt: Attempt) -> str:
        return self.paths[ctx.operation.name]

    def auth_headers(self) -> dict[str, str]:
        """The account's credentials as headers (none when ``http_auth`` signs instead)."""
        return {"x-api-key": self.api_key}

    def upstream_headers(self, ctx: RequestContext, attempt: Attempt) -> dict[str, str]:
        client = ctx.headers
        headers = {"anthropic-version": client.get("anthropic-version") or DEFAULT_VERSION}
        for name in self.forwarded_headers:
            value = client.get(name)
            if value:
                headers[name] = value
        headers.update(self.settings.headers)
        headers.update(self.auth_headers())
        if ctx.stream and ctx.operation.name != "count_tokens":
            headers["accept"] = "text/event-stream"
        return headers

    def build_body(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        """The Messages (or count_tokens) body for this attempt."""
        target = attempt.target
        if ctx.operation.name == "chat":
            body, dropped = chat_to_messages(attempt.body, target.model, default_max_tokens(target.model, target.info))
            if dropped:
                attempt.response_headers[DROPPED_HEADER] = ",".join(dropped)
            return body
        body = attempt.body
        validate_native(body)
        body["model"] = target.model
        return body

    # --- the Provider contract -------------------------------------------------------

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        stream = ctx.stream and ctx.operation.name != "count_tokens"
        body = self.build_body(ctx, attempt)
        return UpstreamRequest(
            "POST", self.path(ctx, attempt), self.upstream_headers(ctx, attempt), json=body, stream=stream
        )

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        if ctx.operation.name == "chat":
            return message_to_chat(data)
        if not isinstance(data, dict):
            raise UpstreamError("the upstream returned an unexpected response body", status=502)
        return data

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> StreamTranslator:
        if ctx.operation.name == "chat":
            options = attempt.body.get("stream_options")
            return ChatStream(include_usage=isinstance(options, dict) and options.get("include_usage") is True)
        return PassthroughStream()

    def usage_of(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any] | None:
        """A complete response's usage in OpenAI names: native Messages answers carry
        Anthropic's names; count_tokens answers are not usage (nothing was generated)."""
        usage = response.get("usage")
        if not isinstance(usage, dict) or ctx.operation.name == "count_tokens":
            return None
        return usage if ctx.operation.name == "chat" else openai_usage(usage)

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        retry_after = headers.get("retry-after")
        return error_from_body(status, body, {"retry-after": retry_after} if retry_after else {})
