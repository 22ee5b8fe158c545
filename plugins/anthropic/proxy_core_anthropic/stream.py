"""Stream translators for Messages API SSE: to OpenAI chunks, or relayed as they came.

Both work on whole events (the core's SSE parser cuts them), so the output does not
depend on how the upstream's bytes were split. An ``event: error`` raises
:class:`UpstreamError` (before the first substantive item it is still a fallback point);
a stream that ends without ``message_stop`` fails in ``finish``, unless its
``message_delta`` with a ``stop_reason`` (and the final usage) already came: then the
answer is complete and ``finish`` ends it cleanly.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from proxy_core.errors import UpstreamError
from proxy_core.sse import SSEEvent

from .errors import error_from_event
from .response import REFUSAL_TEXT, finish_reason, openai_usage
from .server_tools import ServerToolStream, is_server_block


def _event_data(event: SSEEvent) -> dict[str, Any]:
    data = orjson.loads(event.data)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValueError("a Messages stream event must be an object with a 'type'")
    return data


def _merge_usage(raw: dict[str, Any], usage: Any) -> None:
    if isinstance(usage, dict):
        raw.update({key: value for key, value in usage.items() if value is not None})


def _message_stop() -> SSEEvent:
    """The event appended to a native stream whose upstream ended after message_delta
    but before message_stop, so clients (the anthropic SDK) see a well-formed stream."""
    data = b'{"type":"message_stop"}'
    return SSEEvent("message_stop", data, raw=b"event: message_stop\ndata: " + data + b"\n\n")


def _truncated() -> UpstreamError:
    return UpstreamError("the upstream stream ended without message_stop", status=502)


def _stop_reason(data: dict[str, Any]) -> Any:
    delta = data.get("delta")
    return delta.get("stop_reason") if isinstance(delta, dict) else None


class ChatStream:
    """Messages SSE -> chat.completion.chunk dicts (``model`` is set by the core).

    Text -> ``delta.content``; tool_use -> ``delta.tool_calls`` at its own index (the
    n-th tool call of the message, whatever its content-block index); thinking ->
    ``delta.reasoning_content`` while it streams, then the whole block with its
    signature as ``delta.thinking_blocks`` when it stops; redacted thinking is passed
    on whole; server tools and citations: see :mod:`.server_tools`. ``finish_reason``
    rides on the ``message_delta`` chunk; the usage chunk (``choices: []``) follows
    ``message_stop`` (or the end of a stream that stopped without it) when the client
    asked for it. On ``stop_reason: refusal`` the
    ``message_delta`` chunk also carries ``delta.refusal``: the text streamed so far (or
    a fixed sentence when there was none), so OpenAI clients find it in ``refusal``.
    """

    __slots__ = (
        "_args_seen",
        "_created",
        "_done",
        "_id",
        "_raw_usage",
        "_server",
        "_signatures",
        "_stopped",
        "_text_at",
        "_texts",
        "_thinking",
        "_tools",
        "include_usage",
        "usage",
    )

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.usage: dict[str, Any] | None = None
        self._raw_usage: dict[str, Any] = {}
        self._id = "msg_unknown"
        self._created = int(time.time())
        self._tools: dict[int, int] = {}  # content-block index -> tool-call index
        self._thinking: dict[int, list[str]] = {}  # content-block index -> thinking pieces
        self._signatures: dict[int, str] = {}
        self._args_seen: set[int] = set()
        self._done = False
        self._stopped = False  # message_delta gave a stop_reason: the answer is complete
        self._texts: list[str] = []  # the answer's text, for message.refusal on a refusal
        self._text_at: dict[int, int] = {}  # open text block -> its first piece in _texts
        self._server: ServerToolStream | None = None  # server tools and citations, once seen

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": None,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def feed(self, event: SSEEvent) -> list[Any]:
        data = _event_data(event)
        try:
            return self._feed(data)
        except (KeyError, TypeError, AttributeError):
            raise ValueError(f"a malformed {data['type']} event") from None

    def _feed(self, data: dict[str, Any]) -> list[Any]:
        kind = data["type"]
        if kind == "content_block_delta":
            return self._delta(data["index"], data["delta"])
        if kind == "content_block_start":
            return self._start(data["index"], data["content_block"])
        if kind == "content_block_stop":
            return self._stop(data["index"])
        if kind == "message_start":
            message = data["message"]
            self._id = message.get("id") or self._id
            _merge_usage(self._raw_usage, message.get("usage"))
            self.usage = openai_usage(self._raw_usage)
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "message_delta":
            _merge_usage(self._raw_usage, data.get("usage"))
            self.usage = openai_usage(self._raw_usage)
            stop_reason = _stop_reason(data)
            self._stopped = self._stopped or stop_reason is not None
            if stop_reason == "refusal":  # the text streamed as content; OpenAI clients read refusal
                return [self._chunk({"refusal": "".join(self._texts) or REFUSAL_TEXT}, finish_reason(stop_reason))]
            return [self._chunk({}, finish_reason(stop_reason))]
        if kind == "message_stop":
            return self._end()
        if kind == "error":
            raise error_from_event(data)
        return []  # ping and event types added later

    def _start(self, index: int, block: dict[str, Any]) -> list[Any]:
        kind = block.get("type")
        if kind == "text":
            self._text_at[index] = len(self._texts)
            if not block.get("text"):
                return []
            self._texts.append(block["text"])
            return [self._chunk({"content": block["text"]})]
        if is_server_block(kind):
            delta = self._server_tools().start(index, block)
            return [self._chunk(delta)] if delta is not None else []
        if kind == "tool_use":
            tool_index = self._tools[index] = len(self._tools)
            function: dict[str, Any] = {"name": block["name"], "arguments": ""}
            if block.get("input"):
                function["arguments"] = orjson.dumps(block["input"]).decode()
                self._args_seen.add(index)
            call = {"index": tool_index, "id": block["id"], "type": "function", "function": function}
            return [self._chunk({"tool_calls": [call]})]
        if kind == "thinking":
            self._thinking[index] = [block["thinking"]] if block.get("thinking") else []
            self._signatures[index] = block.get("signature") or ""
            return [self._chunk({"reasoning_content": block["thinking"]})] if block.get("thinking") else []
        if kind == "redacted_thinking":
            return [self._chunk({"thinking_blocks": [{"type": "redacted_thinking", "data": block["data"]}]})]
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[Any]:
        kind = delta.get("type")
        if kind == "text_delta":
            self._texts.append(delta["text"])
            return [self._chunk({"content": delta["text"]})]
        if kind == "input_json_delta":
            fragment = delta.get("partial_json")
            if not fragment or index not in self._tools:
                if fragment and self._server is not None:
                    self._server.input(index, fragment)
                return []
            self._args_seen.add(index)
            call = {"index": self._tools[index], "function": {"arguments": fragment}}
            return [self._chunk({"tool_calls": [call]})]
        if kind == "thinking_delta":
            self._thinking.setdefault(index, []).append(delta["thinking"])
            return [self._chunk({"reasoning_content": delta["thinking"]})]
        if kind == "signature_delta":
            # The whole signature comes in one delta; a later one replaces it, as in the SDK.
            self._signatures[index] = delta["signature"]
        elif kind == "citations_delta":
            self._server_tools().cite(index, delta.get("citation"))
        return []

    def _server_tools(self) -> ServerToolStream:
        if self._server is None:
            self._server = ServerToolStream()
        return self._server

    def _stop(self, index: int) -> list[Any]:
        first_piece = self._text_at.pop(index, None)
        if self._server is not None:
            start = end = 0
            if first_piece is not None:  # a text block: its span in the message's content
                start = sum(map(len, self._texts[:first_piece]))
                end = start + sum(map(len, self._texts[first_piece:]))
            delta = self._server.stop(index, start, end)
            if delta is not None:
                return [self._chunk(delta)]
        pieces = self._thinking.pop(index, None)
        if pieces is not None:
            block = {"type": "thinking", "thinking": "".join(pieces), "signature": self._signatures.pop(index, "")}
            return [self._chunk({"thinking_blocks": [block]})]
        if index in self._tools and index not in self._args_seen:
            # No input streamed: say "{}" so the arguments parse, as in a non-stream answer.
            call = {"index": self._tools[index], "function": {"arguments": "{}"}}
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _end(self) -> list[Any]:
        self._done = True
        if self.include_usage and self.usage is not None:
            chunk = self._chunk({})
            chunk["choices"] = []
            chunk["usage"] = self.usage
            return [chunk]
        return []

    def finish(self) -> list[Any]:
        if self._done:
            return []
        if self._stopped:
            return self._end()
        raise _truncated()


class PassthroughStream:
    """Native Messages SSE relayed event by event, unchanged (``event.raw``).

    Every event is parsed once to check it and to watch usage (``message_start`` and
    ``message_delta``), never re-encoded. ``usage`` is kept with OpenAI names. A stream
    that ends after a ``message_delta`` with a ``stop_reason`` but without
    ``message_stop`` gets that one event appended.
    """

    __slots__ = ("_done", "_raw_usage", "_stopped", "usage")

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None
        self._raw_usage: dict[str, Any] = {}
        self._done = False
        self._stopped = False

    def feed(self, event: SSEEvent) -> list[Any]:
        data = _event_data(event)
        kind = data["type"]
        if kind == "message_start":
            _merge_usage(self._raw_usage, (data.get("message") or {}).get("usage"))
            self.usage = openai_usage(self._raw_usage)
        elif kind == "message_delta":
            _merge_usage(self._raw_usage, data.get("usage"))
            self.usage = openai_usage(self._raw_usage)
            self._stopped = self._stopped or _stop_reason(data) is not None
        elif kind == "message_stop":
            self._done = True
        elif kind == "error":
            raise error_from_event(data)
        return [event]

    def finish(self) -> list[Any]:
        if self._done:
            return []
        if self._stopped:
            self._done = True
            return [_message_stop()]
        raise _truncated()
