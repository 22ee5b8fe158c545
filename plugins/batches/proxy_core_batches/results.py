"""Usage of a Message Batch's results, read from the JSONL as it is relayed.

Each line is one request's result; a ``succeeded`` one carries its message with its
usage. The usage is summed (Anthropic names) and reported with OpenAI names for the
spend record, which the cost plugin prices at the batch discount.
"""

from __future__ import annotations

from typing import Any

import orjson
from proxy_core_anthropic.response import openai_usage

_SUMMED = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
MAX_LINE = 64 * 1024 * 1024  # a result line longer than this is relayed but not metered


class ResultsMeter:
    """Feed the relayed bytes; ``usage`` and ``model`` once the body ended."""

    __slots__ = ("_partial", "_raw", "_searches", "model", "succeeded")

    def __init__(self) -> None:
        self._partial = bytearray()
        self._raw: dict[str, int] = dict.fromkeys(_SUMMED, 0)
        self._searches = 0
        self.model: str | None = None
        self.succeeded = 0

    def feed(self, chunk: bytes) -> None:
        self._partial += chunk
        *lines, rest = self._partial.split(b"\n")
        for line in lines:
            self._line(bytes(line))
        self._partial = bytearray(rest) if len(rest) <= MAX_LINE else bytearray()

    def finish(self) -> None:
        if self._partial.strip():
            self._line(bytes(self._partial))
        self._partial = bytearray()

    def _line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            return
        result = data.get("result") if isinstance(data, dict) else None
        message = result.get("message") if isinstance(result, dict) and result.get("type") == "succeeded" else None
        usage = message.get("usage") if isinstance(message, dict) else None
        if not isinstance(usage, dict):
            return
        self.succeeded += 1
        if self.model is None and isinstance(message.get("model"), str):
            self.model = message["model"]
        for name in _SUMMED:
            value = usage.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                self._raw[name] += value
        server = usage.get("server_tool_use")
        searches = server.get("web_search_requests") if isinstance(server, dict) else None
        if isinstance(searches, int) and searches > 0:
            self._searches += searches

    @property
    def usage(self) -> dict[str, Any] | None:
        if not self.succeeded:
            return None
        raw: dict[str, Any] = dict(self._raw)
        if self._searches:
            raw["server_tool_use"] = {"web_search_requests": self._searches}
        return openai_usage(raw)
