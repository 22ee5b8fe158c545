"""Client operations: what a route accepts, how its answers and errors are rendered.

``chat`` is the OpenAI Chat Completions API; ``messages`` and ``count_tokens`` are
Anthropic's Messages API. Canonical stream items are OpenAI chunk dicts for ``chat``,
and Anthropic events (an :class:`SSEEvent` relayed as it came, or a dict) for
``messages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from .errors import InvalidRequestError, ProxyError
from .sse import SSEEvent, encode_event

if TYPE_CHECKING:
    from .context import RequestContext

_MAX_MODEL_NAME = 256


class Operation:
    name: str = ""
    api: str = "openai"  # the client's wire format, for errors and streams
    done: bytes = b""  # stream terminator sent after the last item

    def validate(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            raise InvalidRequestError("'model' is required and must be a non-empty string", param="model")
        if len(model) > _MAX_MODEL_NAME:
            raise InvalidRequestError(f"'model' is longer than {_MAX_MODEL_NAME} characters", param="model")
        stream = body.get("stream")
        if stream is not None and not isinstance(stream, bool):
            raise InvalidRequestError("'stream' must be a boolean", param="stream")

    def render(self, ctx: RequestContext, response: dict[str, Any]) -> bytes:
        response["model"] = ctx.requested_model
        return orjson.dumps(response)

    def encode_item(self, ctx: RequestContext, item: Any) -> bytes:
        raise NotImplementedError

    def is_substantive(self, item: Any) -> bool:
        """Does this stream item carry answer content (the fallback point's edge)?"""
        raise NotImplementedError

    def error_event(self, err: ProxyError) -> bytes:
        raise NotImplementedError


class ChatOperation(Operation):
    name = "chat"
    api = "openai"
    done = b"data: [DONE]\n\n"

    def validate(self, body: dict[str, Any]) -> None:
        super().validate(body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequestError("'messages' is required and must be a non-empty array", param="messages")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                raise InvalidRequestError(
                    f"messages[{i}] must be an object with a string 'role'", param=f"messages[{i}]"
                )

    def encode_item(self, ctx: RequestContext, item: Any) -> bytes:
        item["model"] = ctx.requested_model
        return b"data: " + orjson.dumps(item) + b"\n\n"

    def is_substantive(self, item: Any) -> bool:
        for choice in item.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content") or delta.get("tool_calls") or delta.get("reasoning_content"):
                return True
            if delta.get("thinking_blocks") or delta.get("refusal") or choice.get("finish_reason"):
                return True
        return False

    def error_event(self, err: ProxyError) -> bytes:
        # The openai SDK raises APIError for a data line whose object has "error".
        return b"data: " + orjson.dumps(err.openai_body()) + b"\n\n"


class MessagesOperation(Operation):
    name = "messages"
    api = "anthropic"

    def validate(self, body: dict[str, Any]) -> None:
        super().validate(body)
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise InvalidRequestError("messages: Field required")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                raise InvalidRequestError(f"messages.{i}.role: must be 'user' or 'assistant'")
            if not isinstance(m.get("content"), str | list):
                raise InvalidRequestError(f"messages.{i}.content: must be a string or an array of blocks")
        max_tokens = body.get("max_tokens")
        if self.name == "messages" and (
            not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
        ):
            raise InvalidRequestError("max_tokens: Field required (a positive integer)")

    def encode_item(self, ctx: RequestContext, item: Any) -> bytes:
        if isinstance(item, SSEEvent):
            return item.raw
        return encode_event(orjson.dumps(item), item.get("type"))

    def is_substantive(self, item: Any) -> bool:
        kind = item.event if isinstance(item, SSEEvent) else item.get("type")
        return kind == "content_block_delta" or kind == "message_stop"

    def error_event(self, err: ProxyError) -> bytes:
        return encode_event(orjson.dumps(err.anthropic_body()), "error")


class CountTokensOperation(MessagesOperation):
    name = "count_tokens"

    def render(self, ctx: RequestContext, response: dict[str, Any]) -> bytes:
        return orjson.dumps(response)  # {"input_tokens": N}: no model field


CHAT = ChatOperation()
MESSAGES = MessagesOperation()
COUNT_TOKENS = CountTokensOperation()
