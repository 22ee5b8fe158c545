"""``streamGenerateContent?alt=sse`` events -> OpenAI chat.completion.chunk dicts.

Each event is a whole ``GenerateContentResponse`` holding the next parts. Thought
summaries -> ``delta.reasoning_content``; text -> ``delta.content``; a ``functionCall``
(always whole) -> one ``delta.tool_calls`` item with id, name, arguments and its
``thought_signature``; a signature on a text part -> ``delta.thinking_blocks`` at the
end. The event with ``finishReason`` ends the answer: the finish chunk, then the usage
chunk (``choices: []``) when the client asked for it. Gemini's stream has no other
terminator, so one that ends before a ``finishReason`` fails in :meth:`finish`; an
``error`` object in the stream raises :class:`UpstreamError`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from proxy_core.errors import UpstreamError
from proxy_core.sse import SSEEvent

from .errors import error_from_event
from .response import block_message, finish_reason, openai_usage, tool_call


class GeminiChatStream:
    __slots__ = ("_calls", "_created", "_done", "_id", "_signature", "_started", "_thoughts", "include_usage", "usage")

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.usage: dict[str, Any] | None = None
        self._id = "gen-" + uuid.uuid4().hex
        self._created = int(time.time())
        self._calls = 0
        self._thoughts: list[str] = []
        self._signature: str | None = None
        self._started = False
        self._done = False

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": None,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def feed(self, event: SSEEvent) -> list[Any]:
        data = orjson.loads(event.data)
        if not isinstance(data, dict):
            raise ValueError("a Gemini stream event must be an object")
        if "error" in data:
            raise error_from_event(data)
        if self._done:
            return []
        out: list[Any] = []
        if not self._started:
            self._started = True
            if isinstance(data.get("responseId"), str):
                self._id = data["responseId"]
            out.append(self._chunk({"role": "assistant", "content": ""}))
        usage = openai_usage(data.get("usageMetadata"))
        if usage is not None:
            self.usage = usage
        candidates = data.get("candidates")
        candidate = (
            candidates[0] if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict) else None
        )
        content = candidate.get("content") if candidate else None
        for part in (content.get("parts") if isinstance(content, dict) else None) or []:
            if isinstance(part, dict):
                out.extend(self._part(part))
        refusal = block_message(candidate, data.get("promptFeedback"))
        native = candidate.get("finishReason") if candidate else None
        if refusal is not None or native:
            out.extend(self._end("content_filter" if refusal else finish_reason(native, self._calls > 0), refusal))
        return out

    def _part(self, part: dict[str, Any]) -> list[Any]:
        fn = part.get("functionCall")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            call = {"index": self._calls, **tool_call(part)}
            self._calls += 1
            return [self._chunk({"tool_calls": [call]})]
        if isinstance(part.get("thoughtSignature"), str):
            self._signature = part["thoughtSignature"]
        text = part.get("text")
        if not isinstance(text, str) or not text:
            return []
        if part.get("thought") is True:
            self._thoughts.append(text)
            return [self._chunk({"reasoning_content": text})]
        return [self._chunk({"content": text})]

    def _end(self, reason: str, refusal: str | None) -> list[Any]:
        self._done = True
        out = []
        if refusal is not None:
            out.append(self._chunk({"refusal": refusal}))
        if self._signature:
            block = {"type": "thinking", "thinking": "".join(self._thoughts), "signature": self._signature}
            out.append(self._chunk({"thinking_blocks": [block]}))
        out.append(self._chunk({}, reason))
        if self.include_usage and self.usage is not None:
            chunk = self._chunk({})
            chunk["choices"] = []
            chunk["usage"] = self.usage
            out.append(chunk)
        return out

    def finish(self) -> list[Any]:
        if self._done:
            return []
        raise UpstreamError("the upstream stream ended without a finishReason", status=502)
