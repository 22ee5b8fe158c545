"""Client operations: what a route accepts, how its answers and errors are rendered.

``chat`` is the OpenAI Chat Completions API; ``messages`` and ``count_tokens`` are
Anthropic's Messages API. Canonical stream items are OpenAI chunk dicts for ``chat``,
and Anthropic events (an :class:`SSEEvent` relayed as it came, or a dict) for
``messages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import orjson

from .errors import InvalidRequestError, ProxyError
from .sse import SSEEvent, encode_event

if TYPE_CHECKING:
    from .context import Attempt, RequestContext
    from .provider import StreamTranslator

_MAX_MODEL_NAME = 256

# Chat Completions parameters the gateway or its plugins read, with the JSON types they
# may have (null counts as absent). Bodies come from orjson, so exact ``type()`` checks
# suffice and keep ``true`` out of the integers. Values stay the upstream's to judge.
_INTEGER = (int,)
_NUMBER = (int, float)
_CHAT_PARAMS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("max_tokens", _INTEGER, "an integer"),
    ("max_completion_tokens", _INTEGER, "an integer"),
    ("n", _INTEGER, "an integer"),
    ("temperature", _NUMBER, "a number"),
    ("top_p", _NUMBER, "a number"),
    ("stop", (str, list), "a string or an array of strings"),
    ("stream_options", (dict,), "an object"),
    ("tools", (list,), "an array of tools"),
    ("tool_choice", (str, dict), "a string or an object"),
    ("parallel_tool_calls", (bool,), "a boolean"),
    ("metadata", (dict,), "an object"),
    ("user", (str,), "a string"),
)


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

    def observe(self, ctx: RequestContext, item: Any) -> None:
        """Note what a relayed stream item carried: answer characters in
        ``ctx.relayed_chars``, the answer's end in ``ctx.answer_complete``."""


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
            _check_chat_message(m, i)
        for name, kinds, what in _CHAT_PARAMS:
            value = body.get(name)
            if value is not None and type(value) not in kinds:
                raise InvalidRequestError(f"'{name}' must be {what}", param=name)
        _check_chat_items(body)

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

    def observe(self, ctx: RequestContext, item: Any) -> None:
        for choice in item.get("choices") or ():
            if choice.get("finish_reason"):
                ctx.answer_complete = True
            delta = choice.get("delta")
            if delta:
                chars = len(delta.get("content") or "") + len(delta.get("reasoning_content") or "")
                for call in delta.get("tool_calls") or ():
                    chars += len((call.get("function") or {}).get("arguments") or "")
                ctx.relayed_chars += chars


def _check_chat_message(message: dict[str, Any], i: int) -> None:
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        where = f"messages[{i}].content"
        if not isinstance(content, list):
            raise InvalidRequestError(f"{where} must be a string or an array of content parts", param=where)
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise InvalidRequestError(f"{where}[{j}] must be an object with a string 'type'", param=f"{where}[{j}]")
    tool_calls = message.get("tool_calls")
    if tool_calls is not None and (
        not isinstance(tool_calls, list) or not all(isinstance(call, dict) for call in tool_calls)
    ):
        where = f"messages[{i}].tool_calls"
        raise InvalidRequestError(f"{where} must be an array of objects", param=where)


def _check_chat_items(body: dict[str, Any]) -> None:
    """The elements of the array parameters, and ``stream_options.include_usage``."""
    stop = body.get("stop")
    if isinstance(stop, list) and not all(isinstance(s, str) for s in stop):
        raise InvalidRequestError("'stop' must be a string or an array of strings", param="stop")
    for i, tool in enumerate(body.get("tools") or ()):
        if not isinstance(tool, dict):
            raise InvalidRequestError(f"tools[{i}] must be an object", param=f"tools[{i}]")
    options = body.get("stream_options")
    if options and options.get("include_usage") not in (None, True, False):
        raise InvalidRequestError(
            "'stream_options.include_usage' must be a boolean", param="stream_options.include_usage"
        )


class MessagesOperation(Operation):
    name = "messages"
    api = "anthropic"

    def validate(self, body: dict[str, Any]) -> None:
        super().validate(body)
        messages = body.get("messages")
        if not isinstance(messages, list):
            problem = "Field required" if messages is None else "Input should be a valid list"
            raise InvalidRequestError(f"messages: {problem}")
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

    def observe(self, ctx: RequestContext, item: Any) -> None:
        if isinstance(item, SSEEvent):
            kind = item.event
            if kind == "content_block_delta":
                # Relayed unparsed: the event's JSON less its fixed envelope (~64 bytes).
                ctx.relayed_chars += max(len(item.data) - 64, 0)
        else:
            kind = item.get("type")
            if kind == "content_block_delta":
                delta = item.get("delta") or {}
                ctx.relayed_chars += sum(len(v) for v in delta.values() if isinstance(v, str))
        if kind == "message_delta":
            ctx.answer_complete = True


class CountTokensOperation(MessagesOperation):
    name = "count_tokens"

    def render(self, ctx: RequestContext, response: dict[str, Any]) -> bytes:
        return orjson.dumps(response)  # {"input_tokens": N}: no model field


CHAT = ChatOperation()
MESSAGES = MessagesOperation()
COUNT_TOKENS = CountTokensOperation()


# --- bridges: a client operation served through another one ------------------------------


class StreamConverter(Protocol):
    """Turns one attempt's stream items of the bridged operation (e.g. chat chunks) into
    the client's operation's items (e.g. Messages events). ``feed`` runs on every item
    after the ``stream_transformer`` functions; ``finish`` at the upstream's end of
    stream, after the provider's translator finished (its ``usage`` is final then)."""

    def feed(self, item: Any) -> list[Any]: ...

    def finish(self) -> list[Any]: ...


class OperationBridge(Protocol):
    """Serves a client operation on a provider that does not speak it natively, through
    an operation it does speak (returned by the ``operation_bridge`` hook).

    Per attempt the pipeline calls ``convert_request`` (the client's body -> the body of
    ``operation``), then runs ``prepare_request``, the provider and the per-attempt hooks
    with a view of the context whose ``operation`` is ``operation`` (so they work as for
    a client of that operation), and converts the answer back with
    ``convert_response`` or the ``stream_converter``. Errors keep the client's shape.
    ``operation`` None: the bridge answers by itself (``answer_locally``, e.g. a
    documented estimate), without an upstream call.
    """

    operation: Operation | None

    def convert_request(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]: ...

    def convert_response(self, ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> dict[str, Any]: ...

    def stream_converter(
        self, ctx: RequestContext, attempt: Attempt, translator: StreamTranslator
    ) -> StreamConverter: ...

    def answer_locally(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]: ...
