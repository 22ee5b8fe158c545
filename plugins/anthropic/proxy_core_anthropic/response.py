"""Anthropic Message -> OpenAI chat.completion, and Anthropic usage -> OpenAI usage.

stop_reason -> finish_reason (:data:`FINISH_REASONS`): ``end_turn``, ``stop_sequence``
and ``pause_turn`` -> ``stop``; ``max_tokens`` and ``model_context_window_exceeded`` ->
``length``; ``tool_use`` -> ``tool_calls``; ``refusal`` -> ``content_filter``; anything
unknown -> ``stop``. On ``refusal`` the answer's text moves to ``message.refusal``
(``content`` null), as OpenAI reports a refusal.

Server tools (web search): text ``citations`` with a URL become OpenAI ``url_citation``
``message.annotations`` spanning the cited text block; the ``server_tool_use`` and
``*_tool_result`` blocks are kept as they came in ``message.server_tool_blocks``.

Usage keeps OpenAI's meaning: ``prompt_tokens`` is the whole prompt (input + cache
creation + cache read), ``prompt_tokens_details.cached_tokens`` its cache-read part;
Anthropic's ``cache_creation_input_tokens`` / ``cache_read_input_tokens`` and the
``cache_creation`` TTL breakdown are added as they came; ``output_tokens_details.
thinking_tokens`` becomes ``completion_tokens_details.reasoning_tokens``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from proxy_core.errors import UpstreamError

FINISH_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


# The extension field of chat messages (and stream deltas) holding the server-tool blocks
# (server_tool_use, web_search_tool_result...) as Anthropic sent them.
SERVER_TOOL_BLOCKS = "server_tool_blocks"
# message.refusal when Claude refused without a word of explanation.
REFUSAL_TEXT = "The model declined to answer (stop_reason: refusal)."


def finish_reason(stop_reason: str | None) -> str:
    return FINISH_REASONS.get(stop_reason or "", "stop")


def openai_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """Anthropic usage -> OpenAI usage (see the module docstring)."""
    input_tokens = usage.get("input_tokens") or 0
    created = usage.get("cache_creation_input_tokens")
    read = usage.get("cache_read_input_tokens")
    output = usage.get("output_tokens") or 0
    prompt = input_tokens + (created or 0) + (read or 0)
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
        "prompt_tokens_details": {"cached_tokens": read or 0},
    }
    if created is not None:
        out["cache_creation_input_tokens"] = created
    if read is not None:
        out["cache_read_input_tokens"] = read
    breakdown = usage.get("cache_creation")  # 5m / 1h TTL split: priced differently
    if isinstance(breakdown, dict):
        out["cache_creation"] = breakdown
    server = usage.get("server_tool_use")  # {"web_search_requests": N}: priced per request
    if isinstance(server, dict):
        out["server_tool_use"] = server
    details = usage.get("output_tokens_details")
    if isinstance(details, dict) and isinstance(details.get("thinking_tokens"), int):
        out["completion_tokens_details"] = {"reasoning_tokens": details["thinking_tokens"]}
    return out


def message_to_chat(data: Any) -> dict[str, Any]:
    """A Messages API response as a chat.completion (``model`` is set by the core)."""
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        raise UpstreamError("the upstream returned an unexpected response body", status=502)
    texts: list[str] = []
    reasoning: list[str] = []
    thinking_blocks: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    server_blocks: list[dict[str, Any]] = []
    offset = 0  # characters of text so far: where the next text block starts in content
    for block in data["content"]:
        kind = block.get("type")
        if kind == "text":
            texts.append(block["text"])
            end = offset + len(block["text"])
            annotations += url_citations(block.get("citations"), offset, end)
            offset = end
        elif kind == "server_tool_use" or (isinstance(kind, str) and kind.endswith("_tool_result")):
            server_blocks.append(block)
        elif kind == "tool_use":
            tool_calls.append(tool_call(block["id"], block["name"], orjson.dumps(block.get("input", {})).decode()))
        elif kind == "thinking":
            reasoning.append(block["thinking"])
            thinking_blocks.append(
                {"type": "thinking", "thinking": block["thinking"], "signature": block.get("signature", "")}
            )
        elif kind == "redacted_thinking":
            thinking_blocks.append({"type": "redacted_thinking", "data": block["data"]})
    text = "".join(texts) if texts else None
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    stop_reason = data.get("stop_reason")
    if stop_reason == "refusal":  # OpenAI's shape of a refusal: the text in message.refusal
        message["content"], message["refusal"] = None, text or REFUSAL_TEXT
    if tool_calls:
        message["tool_calls"] = tool_calls
    if annotations:
        message["annotations"] = annotations
    if server_blocks:
        message[SERVER_TOOL_BLOCKS] = server_blocks
    if thinking_blocks:
        message["reasoning_content"] = "".join(reasoning)
        message["thinking_blocks"] = thinking_blocks
    result: dict[str, Any] = {
        "id": data.get("id") or "msg_unknown",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": data.get("model"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(stop_reason)}],
    }
    usage = data.get("usage")
    if isinstance(usage, dict):
        result["usage"] = openai_usage(usage)
    return result


def url_citations(citations: Any, start: int, end: int) -> list[dict[str, Any]]:
    """A text block's citations as OpenAI ``url_citation`` annotations spanning the block
    (``start``..``end`` in ``message.content``); citations without a URL (documents) are
    not annotations."""
    out = []
    for citation in citations if isinstance(citations, list) else ():
        url = citation.get("url") if isinstance(citation, dict) else None
        if isinstance(url, str):
            span = {"start_index": start, "end_index": end, "url": url, "title": citation.get("title") or ""}
            out.append({"type": "url_citation", "url_citation": span})
    return out


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
