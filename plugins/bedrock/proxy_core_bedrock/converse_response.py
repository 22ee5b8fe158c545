"""Bedrock Converse response -> OpenAI chat.completion.

Converse blocks become the Messages blocks they came from (text, ``toolUse`` ->
``tool_use``, ``reasoningContent`` -> ``thinking`` with its signature or
``redacted_thinking``) and the anthropic plugin's :func:`message_to_chat` does the rest,
so both providers answer alike. Usage: Bedrock's ``inputTokens`` excludes cache reads
and writes (like Anthropic's ``input_tokens``), so ``prompt_tokens`` = input + cache
read + cache write, with ``cache_read_input_tokens`` / ``cache_creation_input_tokens``.
Stop reasons: Bedrock's own names, plus ``guardrail_intervened`` / ``content_filtered``
-> ``content_filter``; the rest -> ``stop``.
"""

from __future__ import annotations

import uuid
from typing import Any

from proxy_core_anthropic.response import message_to_chat

from proxy_core.errors import UpstreamError

STOP_REASONS = {"guardrail_intervened": "refusal", "content_filtered": "refusal"}


def stop_reason(reason: Any) -> Any:
    """A Converse stopReason in Anthropic's names (which :mod:`proxy_core_anthropic` maps)."""
    return STOP_REASONS.get(reason, reason)


def anthropic_usage(usage: Any) -> dict[str, Any]:
    if not isinstance(usage, dict):
        return {}
    out = {"input_tokens": usage.get("inputTokens") or 0, "output_tokens": usage.get("outputTokens") or 0}
    if usage.get("cacheReadInputTokens") is not None:
        out["cache_read_input_tokens"] = usage["cacheReadInputTokens"]
    if usage.get("cacheWriteInputTokens") is not None:
        out["cache_creation_input_tokens"] = usage["cacheWriteInputTokens"]
    return out


def message_id() -> str:
    return f"msg_bdrk_{uuid.uuid4().hex[:24]}"


def anthropic_block(block: dict[str, Any]) -> dict[str, Any] | None:
    if "text" in block:
        return {"type": "text", "text": block["text"]}
    if "toolUse" in block:
        use = block["toolUse"]
        return {"type": "tool_use", "id": use["toolUseId"], "name": use["name"], "input": use.get("input") or {}}
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, dict):
        if "redactedContent" in reasoning:
            return {"type": "redacted_thinking", "data": reasoning["redactedContent"]}
        text = reasoning.get("reasoningText") or {}
        return {"type": "thinking", "thinking": text.get("text", ""), "signature": text.get("signature", "")}
    return None  # citations, images...: not in the chat shape


def converse_to_chat(data: Any) -> dict[str, Any]:
    try:
        content = data["output"]["message"]["content"]
        blocks = [b for b in (anthropic_block(block) for block in content) if b is not None]
    except (KeyError, TypeError, AttributeError):
        raise UpstreamError("Amazon Bedrock returned an unexpected Converse response body", status=502) from None
    message = {
        "id": message_id(),
        "content": blocks,
        "stop_reason": stop_reason(data.get("stopReason")),
        "usage": anthropic_usage(data.get("usage")),
    }
    return message_to_chat(message)
