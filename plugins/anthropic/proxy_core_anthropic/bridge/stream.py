"""OpenAI chat.completion.chunk dicts -> the Anthropic Messages event sequence.

The sequence is the real one: one ``message_start`` (input usage: the upstream's when
the first chunk carries it, else the gateway's estimate, see :mod:`.estimate`), then per
content block ``content_block_start`` / deltas / ``content_block_stop`` (thinking,
text, tool_use with ``input_json_delta``; no empty text block), then one
``message_delta`` with the stop reason and the upstream's exact usage (held until the
usage chunk that follows the finish reason, or the end of the stream), and
``message_stop``. Blocks are sequential, as on Anthropic: a tool call's argument
fragments after the next block has started cannot be sent (chat upstreams stream
parallel tool calls one after the other).
"""

from __future__ import annotations

from typing import Any

from proxy_core.provider import StreamTranslator

from .response import anthropic_usage, message_id, stop_reason


class MessagesEvents:
    """One attempt's converter (the :class:`proxy_core.operations.StreamConverter` of the
    Messages bridge)."""

    __slots__ = (
        "_block",
        "_chunk_id",
        "_ended",
        "_finish",
        "_index",
        "_input_estimate",
        "_refused",
        "_started",
        "_stop_sequence",
        "_texted",
        "_tools",
        "_usage",
        "model",
        "translator",
    )

    def __init__(self, model: str | None, input_estimate: int, translator: StreamTranslator) -> None:
        self.model = model
        self.translator = translator
        self._input_estimate = input_estimate
        self._started = False
        self._ended = False
        self._chunk_id: Any = None
        self._block: str | None = None  # kind of the open content block
        self._index = -1  # the open (or last) block's index
        self._tools: dict[int, int] = {}  # chat tool-call index -> content-block index
        self._finish: str | None = None
        self._stop_sequence: str | None = None
        self._refused = False
        self._texted = False  # content text was sent (a later refusal delta repeats it)
        self._usage: dict[str, Any] | None = None

    # --- the converter contract ----------------------------------------------------------

    def feed(self, chunk: Any) -> list[Any]:
        if not isinstance(chunk, dict):
            return []
        out: list[Any] = []
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
        if not self._started:
            self._chunk_id = chunk.get("id")
            out.append(self._message_start())
        choices = chunk.get("choices") or ()
        for choice in choices:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                self._choice(choice, out)
        if self._finish is not None and not choices and isinstance(usage, dict):
            out += self._end()  # the usage chunk that follows the finish reason
        return out

    def finish(self) -> list[Any]:
        out: list[Any] = []
        if not self._started:
            out.append(self._message_start())
        if self._usage is None and self.translator.usage:
            self._usage = self.translator.usage
        return out + self._end()

    # --- events ----------------------------------------------------------------------------

    def _message_start(self) -> dict[str, Any]:
        self._started = True
        usage = anthropic_usage(self._usage) if self._usage and self._usage.get("prompt_tokens") else None
        if usage is None:
            usage = {
                "input_tokens": self._input_estimate,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            }
        usage["output_tokens"] = 1
        message: dict[str, Any] = {
            "id": message_id(self._chunk_id),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return {"type": "message_start", "message": message}

    def _end(self) -> list[Any]:
        if self._ended:
            return []
        self._ended = True
        out = self._close()
        reason = stop_reason(self._finish, {"stop_sequence": self._stop_sequence}, self._refused)
        delta = {"stop_reason": reason, "stop_sequence": self._stop_sequence if reason == "stop_sequence" else None}
        usage = anthropic_usage(self._usage)
        out.append({"type": "message_delta", "delta": delta, "usage": usage})
        out.append({"type": "message_stop"})
        return out

    def _open(self, kind: str, block: dict[str, Any], out: list[Any]) -> None:
        out += self._close()
        self._index += 1
        self._block = kind
        out.append({"type": "content_block_start", "index": self._index, "content_block": block})

    def _close(self) -> list[Any]:
        if self._block is None:
            return []
        self._block = None
        return [{"type": "content_block_stop", "index": self._index}]

    def _delta(self, delta: dict[str, Any]) -> dict[str, Any]:
        return {"type": "content_block_delta", "index": self._index, "delta": delta}

    # --- one choice's delta ----------------------------------------------------------------

    def _choice(self, choice: dict[str, Any], out: list[Any]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            self._reasoning(delta, out)
            text = delta.get("content")
            if isinstance(text, str) and text:
                self._texted = True
                self._text(text, out)
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                self._refused = True
                if not self._texted:  # else it repeats the text that streamed (a translated refusal)
                    self._text(refusal, out)
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    self._tool_call(call, out)
        finish = choice.get("finish_reason")
        if finish:
            self._finish = finish
            if isinstance(choice.get("stop_sequence"), str):
                self._stop_sequence = choice["stop_sequence"]
            out += self._close()
            if isinstance(choice.get("usage"), dict):
                self._usage = choice["usage"]

    def _text(self, text: str, out: list[Any]) -> None:
        if self._block != "text":
            self._open("text", {"type": "text", "text": ""}, out)
        out.append(self._delta({"type": "text_delta", "text": text}))

    def _reasoning(self, delta: dict[str, Any], out: list[Any]) -> None:
        reasoning = delta.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            if self._block != "thinking":
                self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
            out.append(self._delta({"type": "thinking_delta", "thinking": reasoning}))
        for block in delta.get("thinking_blocks") or ():
            if not isinstance(block, dict):
                continue
            if block.get("type") == "redacted_thinking":
                self._open("redacted", {"type": "redacted_thinking", "data": block.get("data") or ""}, out)
                out += self._close()
                continue
            if self._block != "thinking":  # a whole block at once: stream it as Anthropic would
                self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
                if block.get("thinking"):
                    out.append(self._delta({"type": "thinking_delta", "thinking": block["thinking"]}))
            if block.get("signature"):
                out.append(self._delta({"type": "signature_delta", "signature": block["signature"]}))
            out += self._close()

    def _tool_call(self, call: dict[str, Any], out: list[Any]) -> None:
        position = call.get("index", 0)
        fn: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
        if position not in self._tools:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or "",
                "name": fn.get("name") or "",
                "input": {},
            }
            self._open("tool", block, out)
            self._tools[position] = self._index
        elif self._tools[position] != self._index or self._block != "tool":
            return  # the block was closed: a late fragment has nowhere to go (see the docstring)
        arguments = fn.get("arguments")
        if isinstance(arguments, str) and arguments:
            out.append(self._delta({"type": "input_json_delta", "partial_json": arguments}))
