"""Stream translators: ConverseStream -> chat chunks, InvokeModelWithResponseStream ->
Anthropic's events relayed.

Both read the SSE events :mod:`.eventstream` re-framed from the binary event stream.
Converse events are rewritten as the Messages events they correspond to and handed to
the anthropic plugin's :class:`ChatStream`, so chunks, tool-call indexes, thinking
blocks and the usage chunk are exactly the Anthropic route's. Invoke frames carry
Anthropic's own events (base64 in ``chunk.bytes``): decoded and relayed whole by its
:class:`PassthroughStream`. An ``exception`` event raises the mapped error (a fallback
point before the first content).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from proxy_core_anthropic.response import openai_usage
from proxy_core_anthropic.stream import ChatStream, PassthroughStream

from proxy_core.sse import SSEEvent

from .converse_response import anthropic_usage, message_id, stop_reason
from .errors import stream_error
from .eventstream import EXCEPTION, sse


def _event(kind: str, data: dict[str, Any]) -> SSEEvent:
    payload = orjson.dumps({"type": kind, **data})
    return SSEEvent(kind, payload)


def _raise_exception(event: SSEEvent, account: str, secrets: list[str]) -> None:
    data = orjson.loads(event.data)
    raise stream_error(str(data.get("type", "")), str(data.get("message", "")), account=account, secrets=secrets)


class ConverseChatStream:
    """ConverseStream events -> chat.completion.chunk dicts, through :class:`ChatStream`."""

    __slots__ = ("_account", "_inner", "_secrets")

    def __init__(self, include_usage: bool, account: str, secrets: list[str]) -> None:
        self._inner = ChatStream(include_usage)
        self._account = account
        self._secrets = secrets

    @property
    def usage(self) -> dict[str, Any] | None:
        return self._inner.usage

    def feed(self, event: SSEEvent) -> list[Any]:
        if event.event == EXCEPTION:
            _raise_exception(event, self._account, self._secrets)
        data = orjson.loads(event.data)
        if not isinstance(data, dict):
            raise ValueError("a ConverseStream event must be an object")
        try:
            return [item for translated in self._translate(event.event, data) for item in self._inner.feed(translated)]
        except (KeyError, TypeError, AttributeError):
            raise ValueError(f"a malformed {event.event} event") from None

    def _translate(self, kind: str | None, data: dict[str, Any]) -> list[SSEEvent]:
        if kind == "contentBlockDelta":
            return self._delta(data["contentBlockIndex"], data["delta"])
        if kind == "contentBlockStart":
            use = data["start"].get("toolUse")
            if use is None:
                return []
            block = {"type": "tool_use", "id": use["toolUseId"], "name": use["name"], "input": {}}
            return [_event("content_block_start", {"index": data["contentBlockIndex"], "content_block": block})]
        if kind == "contentBlockStop":
            return [_event("content_block_stop", {"index": data["contentBlockIndex"]})]
        if kind == "messageStart":
            return [_event("message_start", {"message": {"id": message_id(), "usage": {}}})]
        if kind == "messageStop":
            return [_event("message_delta", {"delta": {"stop_reason": stop_reason(data["stopReason"])}})]
        if kind == "metadata":
            # Usage comes after messageStop: it is the answer's end (the usage chunk follows).
            self._inner.usage = openai_usage(anthropic_usage(data.get("usage")))
            return [_event("message_stop", {})]
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[SSEEvent]:
        if "text" in delta:
            return [
                _event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": delta["text"]}})
            ]
        if "toolUse" in delta:
            partial = {"type": "input_json_delta", "partial_json": delta["toolUse"].get("input", "")}
            return [_event("content_block_delta", {"index": index, "delta": partial})]
        reasoning = delta.get("reasoningContent")
        if not isinstance(reasoning, dict):
            return []
        if "redactedContent" in reasoning:
            block = {"type": "redacted_thinking", "data": reasoning["redactedContent"]}
            return [_event("content_block_start", {"index": index, "content_block": block})]
        if "signature" in reasoning:
            signature = {"type": "signature_delta", "signature": reasoning["signature"]}
            return [_event("content_block_delta", {"index": index, "delta": signature})]
        thinking = {"type": "thinking_delta", "thinking": reasoning.get("text", "")}
        return [_event("content_block_delta", {"index": index, "delta": thinking})]

    def finish(self) -> list[Any]:
        return self._inner.finish()


class InvokeStream:
    """InvokeModelWithResponseStream frames -> Anthropic's SSE events, relayed whole."""

    __slots__ = ("_account", "_inner", "_secrets")

    def __init__(self, account: str, secrets: list[str]) -> None:
        self._inner = PassthroughStream()
        self._account = account
        self._secrets = secrets

    @property
    def usage(self) -> dict[str, Any] | None:
        return self._inner.usage

    def feed(self, event: SSEEvent) -> list[Any]:
        if event.event == EXCEPTION:
            _raise_exception(event, self._account, self._secrets)
        if event.event != "chunk":
            return []
        try:
            raw = base64.b64decode(orjson.loads(event.data)["bytes"], validate=True)
            kind = orjson.loads(raw)["type"]
        except (KeyError, TypeError, binascii.Error):
            raise ValueError("a malformed InvokeModelWithResponseStream chunk") from None
        if not isinstance(kind, str):
            raise ValueError("a Messages stream event must have a string 'type'")
        return self._inner.feed(SSEEvent(kind, raw, raw=sse(kind, raw)))

    def finish(self) -> list[Any]:
        return self._inner.finish()
