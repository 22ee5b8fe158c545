"""Gemini ``GenerateContentResponse`` -> OpenAI chat.completion, usage and finish reasons.

* Parts: thought summaries (``thought: true``) -> ``reasoning_content``; text ->
  ``content``; ``functionCall`` -> ``tool_calls`` with an id (Gemini's own when it gives
  one, else a fresh ``call_...``) and the part's ``thoughtSignature`` as the call's
  ``thought_signature``; a signature on a text part -> ``thinking_blocks``
  (``[{type: thinking, thinking, signature}]``). The openai SDK keeps both extra fields
  through ``model_dump()``, so echoing the message sends them back (:mod:`.request`).
* ``finishReason`` -> ``finish_reason``: STOP -> ``stop`` (``tool_calls`` when the answer
  has calls), MAX_TOKENS -> ``length``, the safety and policy blocks -> ``content_filter``
  with Gemini's reason kept in ``message.refusal``; a prompt blocked before any
  candidate (``promptFeedback.blockReason``) likewise.
* Usage in OpenAI's meaning: ``prompt_tokens`` = promptTokenCount (+ tool-use prompt
  tokens), ``completion_tokens`` = candidatesTokenCount + thoughtsTokenCount (reasoning
  tokens also in ``completion_tokens_details.reasoning_tokens``), cachedContentTokenCount
  -> ``prompt_tokens_details.cached_tokens``.
* Google Search grounding -> ``message.annotations`` (``url_citation``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from proxy_core.errors import UpstreamError

FILTERED = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE",
     "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"}
)  # fmt: skip


def call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def finish_reason(native: str | None, has_calls: bool) -> str:
    if native == "MAX_TOKENS":
        return "length"
    if native in FILTERED:
        return "content_filter"
    return "tool_calls" if has_calls else "stop"


def block_message(candidate: dict[str, Any] | None, feedback: Any) -> str | None:
    """Why Gemini withheld the answer (or the prompt), for ``message.refusal``."""
    if isinstance(feedback, dict) and isinstance(feedback.get("blockReason"), str):
        reason = feedback["blockReason"]
        detail = feedback.get("blockReasonMessage")
        categories = _flagged(feedback.get("safetyRatings"))
        return (
            f"Gemini blocked the prompt: {reason}"
            + (f" ({categories})" if categories else "")
            + (f": {detail}" if isinstance(detail, str) and detail else "")
        )
    native = candidate.get("finishReason") if candidate else None
    if native in FILTERED and candidate is not None:
        categories = _flagged(candidate.get("safetyRatings"))
        detail = candidate.get("finishMessage")
        return (
            f"Gemini stopped the answer: {native}"
            + (f" ({categories})" if categories else "")
            + (f": {detail}" if isinstance(detail, str) and detail else "")
        )
    return None


def _flagged(ratings: Any) -> str:
    if not isinstance(ratings, list):
        return ""
    names = [
        r["category"]
        for r in ratings
        if isinstance(r, dict)
        and isinstance(r.get("category"), str)
        and (r.get("blocked") or r.get("probability") in ("MEDIUM", "HIGH"))
    ]
    return ", ".join(names)


def openai_usage(meta: Any) -> dict[str, Any] | None:
    if not isinstance(meta, dict):
        return None
    prompt = (meta.get("promptTokenCount") or 0) + (meta.get("toolUsePromptTokenCount") or 0)
    thoughts = meta.get("thoughtsTokenCount") or 0
    completion = (meta.get("candidatesTokenCount") or 0) + thoughts
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": meta.get("cachedContentTokenCount") or 0},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }
    return usage


def tool_call(part: dict[str, Any]) -> dict[str, Any]:
    fn = part["functionCall"]
    call: dict[str, Any] = {
        "id": fn.get("id") or call_id(),
        "type": "function",
        "function": {"name": fn["name"], "arguments": orjson.dumps(fn.get("args") or {}).decode()},
    }
    if isinstance(part.get("thoughtSignature"), str):
        call["thought_signature"] = part["thoughtSignature"]
    return call


def annotations(candidate: dict[str, Any], text_length: int) -> list[dict[str, Any]]:
    """Grounding sources as OpenAI ``url_citation`` annotations (the supported span when
    Gemini gives one, else the whole text)."""
    meta = candidate.get("groundingMetadata")
    chunks = meta.get("groundingChunks") if isinstance(meta, dict) else None
    if not isinstance(chunks, list):
        return []
    webs = [c.get("web") if isinstance(c, dict) else None for c in chunks]
    spans: dict[int, tuple[int, int]] = {}
    for support in meta.get("groundingSupports") or []:  # type: ignore[union-attr]
        segment = support.get("segment") if isinstance(support, dict) else None
        if not isinstance(segment, dict):
            continue
        for index in support.get("groundingChunkIndices") or []:
            spans.setdefault(index, (segment.get("startIndex") or 0, segment.get("endIndex") or text_length))
    out = []
    for i, web in enumerate(webs):
        if isinstance(web, dict) and isinstance(web.get("uri"), str):
            start, end = spans.get(i, (0, text_length))
            citation = {"url": web["uri"], "title": web.get("title") or "", "start_index": start, "end_index": end}
            out.append({"type": "url_citation", "url_citation": citation})
    return out


def gemini_to_chat(data: Any) -> dict[str, Any]:
    """A generateContent answer as a chat.completion (``model`` is set by the core)."""
    if not isinstance(data, dict):
        raise UpstreamError("the upstream returned an unexpected response body", status=502)
    candidates = data.get("candidates")
    candidate = (
        candidates[0] if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict) else None
    )
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []
    signature = None
    content = candidate.get("content") if candidate else None
    for part in (content.get("parts") if isinstance(content, dict) else None) or []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("functionCall"), dict) and isinstance(part["functionCall"].get("name"), str):
            calls.append(tool_call(part))
            continue
        if part.get("thought") is True:
            if isinstance(part.get("text"), str):
                thoughts.append(part["text"])
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
        if isinstance(part.get("thoughtSignature"), str):
            signature = part["thoughtSignature"]
    text = "".join(texts) if texts else None
    refusal = block_message(candidate, data.get("promptFeedback"))
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": refusal}
    if calls:
        message["tool_calls"] = calls
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if signature:
        message["thinking_blocks"] = [{"type": "thinking", "thinking": "".join(thoughts), "signature": signature}]
    if candidate is not None:
        cited = annotations(candidate, len(text or ""))
        if cited:
            message["annotations"] = cited
    native = candidate.get("finishReason") if candidate else None
    reason = "content_filter" if refusal else finish_reason(native, bool(calls))
    result: dict[str, Any] = {
        "id": data.get("responseId") or "gen-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": data.get("modelVersion"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reason}],
    }
    usage = openai_usage(data.get("usageMetadata"))
    if usage is not None:
        result["usage"] = usage
    return result
