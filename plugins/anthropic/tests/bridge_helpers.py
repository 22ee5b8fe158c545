"""Scripted chat answers for the Messages bridge's tests (what an OpenAI-wire upstream sends)."""

from __future__ import annotations

from typing import Any

from proxy_core.testing import Reply

MODEL = "openai-main/gpt-4o-mini"
USAGE = {"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-b1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": choices,
        **extra,
    }


def chat_stream(*chunks: dict[str, Any], usage: dict[str, Any] | None = USAGE) -> Reply:
    """SSE of these chunks, then OpenAI's usage chunk (when ``usage``) and ``[DONE]``."""
    events: list[Any] = list(chunks)
    if usage is not None:
        events.append(chunk(None, usage=usage))
    events.append("[DONE]")
    return Reply.sse(events)


def completion(message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None) -> Reply:
    return Reply.json(
        {
            "id": "chatcmpl-b1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
            "usage": usage or USAGE,
        }
    )


def tool_call(index: int, call_id: str | None, name: str | None, arguments: str) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        call.update(id=call_id, type="function")
        call["function"]["name"] = name
    return call
