"""Default answers of the fake upstreams, shaped like the real providers' answers.

Builders are public so tests can script variations: ``openai_completion(text=...)``,
``openai_chunks(...)``, ``anthropic_message(content=[...])``, ``anthropic_events(...)``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .fake_upstream import RecordedRequest, Reply

OPENAI_TEXT = "Hello from the fake OpenAI upstream."
ANTHROPIC_TEXT = "Hello from the fake Anthropic upstream."


def _body(request: RecordedRequest) -> dict[str, Any]:
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def default_reply(kind: str, request: RecordedRequest) -> Reply:
    from .fake_upstream import Reply

    body = _body(request)
    model = str(body.get("model", "unknown"))
    path = request.path.split("?", 1)[0]
    if kind == "openai" and path.endswith("/chat/completions"):
        if body.get("stream"):
            include_usage = (body.get("stream_options") or {}).get("include_usage") is True
            return Reply.sse(openai_chunks(model, OPENAI_TEXT, include_usage=include_usage))
        return Reply.json(openai_completion(model, OPENAI_TEXT))
    if kind == "anthropic" and path == "/v1/messages":
        if body.get("stream"):
            return Reply.sse(anthropic_events(model, ANTHROPIC_TEXT))
        return Reply.json(anthropic_message(model, [{"type": "text", "text": ANTHROPIC_TEXT}]))
    if kind == "anthropic" and path == "/v1/messages/count_tokens":
        return Reply.json({"input_tokens": 42})
    if kind == "anthropic":
        return Reply.json(
            {"type": "error", "error": {"type": "not_found_error", "message": f"no route {path}"}}, status=404
        )
    return Reply.json({"error": {"message": f"no route {path}", "type": "invalid_request_error"}}, status=404)


def openai_completion(
    model: str, text: str | None, *, tool_calls: list[dict[str, Any]] | None = None, finish_reason: str = "stop"
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
    }


def openai_chunks(model: str, text: str, *, include_usage: bool = False, pieces: int = 4) -> list[Any]:
    base = {"id": "chatcmpl-fake0001", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    extra: dict[str, Any] = {"usage": None} if include_usage else {}
    step = max(1, len(text) // pieces)
    parts = [text[i : i + step] for i in range(0, len(text), step)]
    chunks: list[Any] = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
            **extra,
        }
    ]
    chunks += [
        {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}], **extra} for p in parts
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], **extra})
    if include_usage:
        chunks.append(
            {**base, "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}}
        )
    chunks.append("[DONE]")
    return chunks


def anthropic_message(
    model: str, content: list[dict[str, Any]], *, stop_reason: str = "end_turn", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "msg_fake0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 12, "output_tokens": 8},
    }


def anthropic_events(model: str, text: str, *, pieces: int = 4, usage: dict[str, Any] | None = None) -> list[Any]:
    step = max(1, len(text) // pieces)
    parts = [text[i : i + step] for i in range(0, len(text), step)]
    start_usage = {"input_tokens": 12, "output_tokens": 1, **(usage or {})}
    events: list[Any] = [
        {
            "type": "message_start",
            "message": {**anthropic_message(model, [], usage=start_usage), "stop_reason": None},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    events += [{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}} for p in parts]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 8},
        },
        {"type": "message_stop"},
    ]
    return events


def anthropic_stream(model: str, content: list[dict[str, Any]], *, stop_reason: str = "end_turn") -> Reply:
    """The SSE events Anthropic streams for a message with these content blocks (text,
    thinking with its signature, redacted_thinking, tool_use), as one scripted reply."""
    from .fake_upstream import Reply

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
            first: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
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
