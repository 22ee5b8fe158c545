"""Scripted Anthropic answers (JSON and SSE events) for the structured-output tests."""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.testing import Reply
from proxy_core.testing.fake_answers import anthropic_message

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7rvWM2C/kG/ZRl6uZv1ypZo+VULo3FDLkqOZhPOdA=="
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4a"


def message_reply(model: str, content: list[dict[str, Any]], **kw: Any) -> Reply:
    return Reply.json(anthropic_message(model, content, **kw))


def events_reply(model: str, content: list[dict[str, Any]], *, stop_reason: str = "end_turn") -> Reply:
    """The SSE events Anthropic streams for a message with these content blocks."""
    start = {**anthropic_message(model, [], usage={"input_tokens": 12, "output_tokens": 1}), "stop_reason": None}
    events: list[Any] = [{"type": "message_start", "message": start}]
    for i, block in enumerate(content):
        kind = block["type"]
        if kind == "text":
            events.append({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
            events.append(
                {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": block["text"]}}
            )
        elif kind == "thinking":
            first = {"type": "thinking", "thinking": "", "signature": ""}
            events.append({"type": "content_block_start", "index": i, "content_block": first})
            half = len(block["thinking"]) // 2
            for piece in (block["thinking"][:half], block["thinking"][half:]):
                delta = {"type": "thinking_delta", "thinking": piece}
                events.append({"type": "content_block_delta", "index": i, "delta": delta})
            delta = {"type": "signature_delta", "signature": block["signature"]}
            events.append({"type": "content_block_delta", "index": i, "delta": delta})
        elif kind == "redacted_thinking":
            events.append({"type": "content_block_start", "index": i, "content_block": block})
        elif kind == "tool_use":
            first = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append({"type": "content_block_start", "index": i, "content_block": first})
            delta = {"type": "input_json_delta", "partial_json": orjson.dumps(block["input"]).decode()}
            events.append({"type": "content_block_delta", "index": i, "delta": delta})
        events.append({"type": "content_block_stop", "index": i})
    usage = {"output_tokens": 40, "output_tokens_details": {"thinking_tokens": 25}}
    events.append(
        {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": usage}
    )
    events.append({"type": "message_stop"})
    return Reply.sse(events)
