"""OpenAI chat.completion -> Anthropic Message, and OpenAI usage -> Anthropic usage.

finish_reason -> stop_reason (:data:`STOP_REASONS`): ``stop`` -> ``end_turn`` (or
``stop_sequence`` when the choice names the matched sequence in the canonical extension
``stop_sequence``), ``length`` -> ``max_tokens``, ``tool_calls`` / ``function_call`` ->
``tool_use``, ``content_filter`` -> ``refusal``; a ``message.refusal`` is a refusal too.

Usage: ``input_tokens`` = prompt tokens less the cache-read and cache-written ones
(Anthropic counts those apart), ``output_tokens`` = completion tokens (reasoning
included, as on Anthropic).
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.errors import UpstreamError

STOP_REASONS: dict[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def stop_reason(finish: str | None, choice: dict[str, Any] | None = None, refused: bool = False) -> str:
    if refused:
        return "refusal"
    if finish == "stop" and choice is not None and isinstance(choice.get("stop_sequence"), str):
        return "stop_sequence"
    return STOP_REASONS.get(finish or "", "end_turn")


def anthropic_usage(usage: dict[str, Any] | None) -> dict[str, Any]:
    """OpenAI usage (the canonical names) -> Anthropic usage."""
    usage = usage or {}
    prompt = usage.get("prompt_tokens") or 0
    details = usage.get("prompt_tokens_details")
    read = usage.get("cache_read_input_tokens")
    if read is None and isinstance(details, dict):
        read = details.get("cached_tokens")
    created = usage.get("cache_creation_input_tokens")
    out: dict[str, Any] = {
        "input_tokens": max(prompt - (read or 0) - (created or 0), 0),
        "output_tokens": usage.get("completion_tokens") or 0,
        "cache_creation_input_tokens": created or 0,
        "cache_read_input_tokens": read or 0,
    }
    server = usage.get("server_tool_use")
    if isinstance(server, dict):
        out["server_tool_use"] = server
    return out


def tool_input(arguments: Any) -> Any:
    """A tool call's arguments as the ``input`` object (``{}`` when empty or not JSON)."""
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def message_id(chat_id: Any) -> str:
    text = chat_id if isinstance(chat_id, str) and chat_id else "unknown"
    return text if text.startswith("msg_") else "msg_" + text


def thinking_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message.get("thinking_blocks")
    if isinstance(blocks, list) and blocks:
        return [b for b in blocks if isinstance(b, dict)]
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        return [{"type": "thinking", "thinking": reasoning, "signature": ""}]
    return []


def chat_to_message(data: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion as a Messages API response (``model`` is set by the core)."""
    choices = data.get("choices")
    choice: dict[str, Any] = (
        choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    )
    message = choice.get("message")
    if not isinstance(message, dict):
        raise UpstreamError("the upstream returned an unexpected response body", status=502)
    content: list[dict[str, Any]] = list(thinking_blocks(message))
    text = message.get("content")
    refusal = message.get("refusal")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    elif isinstance(refusal, str) and refusal:
        content.append({"type": "text", "text": refusal})
    for call in message.get("tool_calls") or ():
        fn = call.get("function") or {}
        name = fn.get("name") or ""
        content.append(
            {"type": "tool_use", "id": call.get("id") or "", "name": name, "input": tool_input(fn.get("arguments"))}
        )
    reason = stop_reason(choice.get("finish_reason"), choice, refused=isinstance(refusal, str) and bool(refusal))
    return {
        "id": message_id(data.get("id")),
        "type": "message",
        "role": "assistant",
        "model": data.get("model"),
        "content": content,
        "stop_reason": reason,
        "stop_sequence": choice.get("stop_sequence") if reason == "stop_sequence" else None,
        "usage": anthropic_usage(data.get("usage")),
    }
