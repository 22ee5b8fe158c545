"""The OpenAI Chat Completions wire format: the canonical shape, so mostly passthrough.

The upstream always streams usage (``stream_options.include_usage``) so the gateway can
account for it; when the client did not ask for usage, the usage-only chunk and the
``usage`` fields are removed before the client sees them.

Subclasses for other OpenAI-wire upstreams (:mod:`.compatible`, Azure OpenAI) override
the small seams: ``auth_headers``, ``chat_path`` and ``stream_usage_option``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from proxy_core import Attempt, Provider, RequestContext, UpstreamRequest
from proxy_core.errors import UpstreamError
from proxy_core.sse import SSEEvent


class OpenAIProvider(Provider):
    type_name = "openai"
    default_base_url = "https://api.openai.com/v1"
    operations = frozenset({"chat"})
    capabilities = frozenset({"reasoning_effort", "response_format", "prompt_cache_key"})
    # Does the upstream take `stream_options: {include_usage: true}`? Those that do not
    # (Mistral) send usage in their last chunk anyway.
    stream_usage_option: ClassVar[bool] = True

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": "Bearer " + self.api_key}

    def chat_path(self, attempt: Attempt) -> str:
        """The chat endpoint, relative to the account's base URL."""
        return "chat/completions"

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        body = attempt.body
        body["model"] = attempt.target.model
        if ctx.stream:
            options = body.pop("stream_options", None)
            options = options if isinstance(options, dict) else {}
            attempt.notes["openai.client_wants_usage"] = options.get("include_usage") is True
            if self.stream_usage_option:
                body["stream_options"] = {**options, "include_usage": True}
        headers = {**self.auth_headers(), **self.settings.headers}
        if ctx.stream:
            headers["accept"] = "text/event-stream"
        return UpstreamRequest("POST", self.chat_path(attempt), headers, json=body, stream=ctx.stream)

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise UpstreamError("the upstream returned an unexpected response body", status=502)
        return data

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> OpenAIStream:
        return OpenAIStream(keep_usage=attempt.notes.get("openai.client_wants_usage", False))

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        err = super().parse_error(status, body, headers)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return err
        detail = data.get("error") if isinstance(data, dict) else None
        if isinstance(detail, dict):
            if isinstance(detail.get("type"), str):
                err.openai_type = detail["type"]
            if isinstance(detail.get("code"), str):
                err.code = detail["code"]
            if isinstance(detail.get("param"), str):
                err.param = detail["param"]
        return err


class OpenAIStream:
    """chat.completion.chunk events, relayed; usage observed; ``[DONE]`` required."""

    __slots__ = ("done", "keep_usage", "usage")

    def __init__(self, keep_usage: bool) -> None:
        self.keep_usage = keep_usage
        self.usage: dict[str, Any] | None = None
        self.done = False

    def feed(self, event: SSEEvent) -> list[Any]:
        data = event.data
        if data == b"[DONE]":
            self.done = True
            return []
        chunk = orjson.loads(data)
        if not isinstance(chunk, dict):
            raise ValueError("not a chunk object")
        if "error" in chunk:
            err = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise UpstreamError(
                str(err.get("message") or "the upstream reported an error mid-stream"),
                status=502,
                openai_type=err.get("type") if isinstance(err.get("type"), str) else None,
                code=err.get("code") if isinstance(err.get("code"), str) else None,
            )
        usage = chunk.get("usage")
        if usage:
            self.usage = usage
        if not self.keep_usage:
            if not chunk.get("choices") and usage:
                return []
            chunk.pop("usage", None)
        return [chunk]

    def finish(self) -> list[Any]:
        if not self.done:
            raise UpstreamError("the upstream stream ended without its [DONE] terminator", status=502)
        return []
