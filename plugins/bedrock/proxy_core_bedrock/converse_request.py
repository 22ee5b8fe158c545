"""OpenAI Chat Completions request -> Bedrock Converse request.

The chat body is first translated by the anthropic plugin (:func:`chat_to_messages`:
validation, turn merging, tool results, thinking blocks, cache marks, parameter policy),
then each Messages block becomes its Converse block. One translation of the OpenAI
shape, two wire formats.

* ``cache_control`` on a block -> a ``{"cachePoint": {"type": "default"}}`` block right
  after it (system, messages, tools; Amazon models take none on tools);
* Claude's ``thinking`` and ``top_k`` -> ``additionalModelRequestFields``; other
  families drop them (reported in ``x-proxy-core-dropped-params``);
* images and PDFs go as base64 ``bytes``; an image URL is a 400 (Bedrock fetches none).
"""

from __future__ import annotations

from typing import Any

from proxy_core_anthropic.params import default_max_tokens
from proxy_core_anthropic.request import chat_to_messages

from proxy_core.errors import InvalidRequestError

from .families import AMAZON, ANTHROPIC, anthropic_id, family

Block = dict[str, Any]
_TOOL_CHOICE = {"auto": "auto", "any": "any"}
_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


def chat_to_converse(body: dict[str, Any], model: str, info: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The Converse body (``modelId`` goes in the path) and the dropped parameter names."""
    vendor = family(model, info)
    claude = vendor == ANTHROPIC
    messages_body, dropped = chat_to_messages(body, model, default_max_tokens(anthropic_id(model), info))
    docs = _Documents()
    out: dict[str, Any] = {}
    system = messages_body.get("system")
    if system:
        out["system"] = _system(system)
    out["messages"] = [
        {"role": m["role"], "content": _content(m["content"], f"messages[{i}]", docs)}
        for i, m in enumerate(messages_body["messages"])
    ]
    out["inferenceConfig"] = _inference(body, messages_body, claude)
    extra: dict[str, Any] = {}
    for name in ("thinking", "top_k"):
        if name in messages_body:
            if claude:
                extra[name] = messages_body[name]
            else:
                dropped.append(name)
    if "output_config" in messages_body:
        dropped.append("output_config")
    if extra:
        out["additionalModelRequestFields"] = extra
    if "tools" in messages_body:
        tool_config = _tool_config(messages_body, out["messages"], vendor, dropped)
        if tool_config is not None:
            out["toolConfig"] = tool_config
    if "metadata" in messages_body:
        # requestMetadata takes a restricted character set only: never risk a 400 on it.
        dropped.append("user")
    return out, dropped


def _inference(body: dict[str, Any], messages_body: dict[str, Any], claude: bool) -> dict[str, Any]:
    """maxTokens only where the client (or the reasoning plugin) set one, or for Claude,
    whose native API requires it; the model's own default otherwise."""
    config: dict[str, Any] = {}
    asked = body.get("max_tokens") is not None or body.get("max_completion_tokens") is not None
    if asked or claude or "thinking" in messages_body:
        config["maxTokens"] = messages_body["max_tokens"]
    for source, target in (("temperature", "temperature"), ("top_p", "topP"), ("stop_sequences", "stopSequences")):
        if source in messages_body:
            config[target] = messages_body[source]
    return config


def _cache_point(block: Block) -> list[Block]:
    mark = block.get("cache_control")
    if not isinstance(mark, dict):
        return []
    point: Block = {"type": "default"}
    if mark.get("ttl") in ("5m", "1h"):
        point["ttl"] = mark["ttl"]
    return [{"cachePoint": point}]


def _system(system: str | list[Block]) -> list[Block]:
    if isinstance(system, str):
        return [{"text": system}]
    out: list[Block] = []
    for block in system:
        out.append({"text": block["text"]})
        out += _cache_point(block)
    return out


class _Documents:
    """Document names, unique within a request as Bedrock requires."""

    def __init__(self) -> None:
        self.count = 0

    def name(self) -> str:
        self.count += 1
        return f"document-{self.count}"


def _content(content: str | list[Block], where: str, docs: _Documents) -> list[Block]:
    if isinstance(content, str):
        return [{"text": content}]
    out: list[Block] = []
    for j, block in enumerate(content):
        out.append(_block(block, f"{where}.content[{j}]", docs))
        out += _cache_point(block)
    return out


def _block(block: Block, where: str, docs: _Documents) -> Block:
    kind = block["type"]
    if kind == "text":
        return {"text": block["text"]}
    if kind in ("image", "document"):
        return _media(block, where, docs)
    if kind == "tool_use":
        return {"toolUse": {"toolUseId": block["id"], "name": block["name"], "input": block["input"]}}
    if kind == "tool_result":
        return {"toolResult": _tool_result(block, where, docs)}
    if kind == "thinking":
        return {"reasoningContent": {"reasoningText": {"text": block["thinking"], "signature": block["signature"]}}}
    if kind == "redacted_thinking":
        return {"reasoningContent": {"redactedContent": block["data"]}}
    raise InvalidRequestError(f"{where}: {kind} content is not supported on Amazon Bedrock", param=where)


def _media(block: Block, where: str, docs: _Documents) -> Block:
    source = block["source"]
    if source.get("type") != "base64":
        what = "an image URL" if source.get("type") == "url" else "an uploaded file id"
        raise InvalidRequestError(
            f"{where}: Amazon Bedrock takes images and documents inline only, not {what}: "
            "send a base64 data: URI (data:image/png;base64,... or data:application/pdf;base64,...)",
            param=where,
        )
    if block["type"] == "image":
        return {"image": {"format": _IMAGE_FORMATS[source["media_type"]], "source": {"bytes": source["data"]}}}
    return {"document": {"format": "pdf", "name": docs.name(), "source": {"bytes": source["data"]}}}


def _tool_result(block: Block, where: str, docs: _Documents) -> Block:
    content = block.get("content")
    if content is None or isinstance(content, str):
        parts: list[Block] = [{"text": content or ""}]
    else:
        parts = [_block(part, f"{where}.content[{k}]", docs) for k, part in enumerate(content)]
    return {"toolUseId": block["tool_use_id"], "content": parts}


def _tool_config(
    messages_body: dict[str, Any], messages: list[Block], vendor: str, dropped: list[str]
) -> dict[str, Any] | None:
    choice = messages_body.get("tool_choice") or {}
    history = any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])
    if choice.get("type") == "none" and not history:
        return None  # Converse has no "none": no tools offered means none called
    tools: list[Block] = []
    for tool in messages_body["tools"]:
        spec: Block = {"name": tool["name"], "inputSchema": {"json": tool["input_schema"]}}
        if tool.get("description"):
            spec["description"] = tool["description"]
        tools.append({"toolSpec": spec})
        points = _cache_point(tool)
        if points and vendor == AMAZON:
            dropped.append("tools.cache_control")  # Amazon's models reject tool cache points
        else:
            tools += points
    config: dict[str, Any] = {"tools": tools}
    kind = choice.get("type")
    if kind == "tool":
        config["toolChoice"] = {"tool": {"name": choice["name"]}}
    elif kind in _TOOL_CHOICE:
        config["toolChoice"] = {_TOOL_CHOICE[kind]: {}}
    elif kind == "none":
        dropped.append("tool_choice")  # "none" with tool calls in the history: tools stay offered
    if choice.get("disable_parallel_tool_use"):
        dropped.append("parallel_tool_calls")
    return config
