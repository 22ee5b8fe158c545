"""Builders shared by the tests: scripted Messages answers and their SSE events."""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.testing import Reply
from proxy_core.testing.fake_answers import anthropic_message

UPSTREAM_MODEL = "claude-sonnet-4-20250514"
MODEL = "anthropic-main/" + UPSTREAM_MODEL
UPSTREAM_KEY = "sk-ant-upstream-secret"


def message_reply(content: list[dict[str, Any]], **kw: Any) -> Reply:
    return Reply.json(anthropic_message(UPSTREAM_MODEL, content, **kw))


def events_for(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    usage: dict[str, Any] | None = None,
    pieces: int = 3,
) -> list[dict[str, Any]]:
    """The SSE events Anthropic sends for a message with these content blocks."""
    start_usage = {"input_tokens": 12, "output_tokens": 1, **(usage or {})}
    message = {**anthropic_message(UPSTREAM_MODEL, [], usage=start_usage), "stop_reason": None}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": message}, {"type": "ping"}]
    for i, block in enumerate(content):
        kind = block["type"]
        if kind == "text":
            events.append({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
            events += [
                {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": p}}
                for p in split(block["text"], pieces)
            ]
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append({"type": "content_block_start", "index": i, "content_block": start})
            events += [
                {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": p}}
                for p in split(orjson.dumps(block["input"]).decode(), pieces)
            ]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            events.append({"type": "content_block_start", "index": i, "content_block": start})
            events += [
                {"type": "content_block_delta", "index": i, "delta": {"type": "thinking_delta", "thinking": p}}
                for p in split(block["thinking"], pieces)
            ]
            events.append(
                {
                    "type": "content_block_delta",
                    "index": i,
                    "delta": {"type": "signature_delta", "signature": block["signature"]},
                }
            )
        elif kind == "redacted_thinking":
            events.append({"type": "content_block_start", "index": i, "content_block": block})
        events.append({"type": "content_block_stop", "index": i})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 8},
        }
    )
    events.append({"type": "message_stop"})
    return events


def split(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    step = max(1, len(text) // pieces)
    return [text[i : i + step] for i in range(0, len(text), step)]
