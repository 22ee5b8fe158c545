"""Anthropic Messages request -> OpenAI Chat Completions request (the canonical shape).

The reverse of :mod:`proxy_core_anthropic.request`, for targets that speak only chat.
Pure functions; bad input raises :class:`InvalidRequestError` (a 400 in Anthropic's
shape, before any upstream call). Mapping:

* ``system`` -> a system message (text parts keep ``cache_control``).
* user blocks: ``text`` -> text part; ``image`` (base64 / url / file) -> ``image_url``
  (a data: URI) or a ``file`` part; ``document`` (base64 PDF / file / text) -> ``file``
  part or text; ``tool_result`` -> a ``tool`` message placed before the turn's other
  parts (its images follow in a user message: chat tool messages take text only).
* assistant blocks: ``text`` -> content; ``tool_use`` -> ``tool_calls``; ``thinking`` /
  ``redacted_thinking`` -> ``thinking_blocks`` (the canonical extension).
* ``tools`` -> function tools; a ``web_search_*`` server tool -> ``web_search_options``;
  other server tools are a 400. ``tool_choice`` any -> required, tool -> function,
  ``disable_parallel_tool_use`` -> ``parallel_tool_calls: false``.
* ``max_tokens`` -> ``max_completion_tokens``; ``stop_sequences`` -> ``stop``;
  ``temperature``, ``top_p`` as they are; ``metadata.user_id`` -> ``user``;
  ``thinking`` / ``output_config.effort`` -> ``reasoning_effort`` (see
  :func:`reasoning_effort`); ``output_config.format`` (json_schema) ->
  ``response_format``; ``stream`` -> ``stream`` + ``stream_options.include_usage``
  (the Messages stream must end with the exact usage).
* dropped (reported in ``x-proxy-core-dropped-params``): ``top_k``, ``service_tier``,
  ``container``, ``mcp_servers``, ``context_management`` and unknown names.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.errors import InvalidRequestError

Part = dict[str, Any]

_HANDLED = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "stop_sequences",
        "temperature",
        "top_p",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "stream",
    }
)
# thinking.budget_tokens at most this -> that reasoning_effort; above the last: high.
_EFFORT_BUDGETS = ((2048, "low"), (12288, "medium"))


def messages_to_chat(body: dict[str, Any], model: str) -> tuple[dict[str, Any], list[str]]:
    """The chat body for this Messages body, and the names of the dropped parameters."""
    out: dict[str, Any] = {"model": model}
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": _system_content(system)})
    for i, msg in enumerate(body["messages"]):
        if msg["role"] == "user":
            messages.extend(_user_messages(msg["content"], i))
        else:
            messages.append(_assistant_message(msg["content"], i))
    out["messages"] = messages
    out["max_completion_tokens"] = body["max_tokens"]
    _params(body, out)
    dropped = [name for name, value in body.items() if name not in _HANDLED and value is not None]
    return out, dropped


def _params(body: dict[str, Any], out: dict[str, Any]) -> None:
    stop = body.get("stop_sequences")
    if stop:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise InvalidRequestError("stop_sequences: must be an array of strings")
        out["stop"] = stop
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRequestError(f"{name}: must be a number")
            out[name] = value
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        out["user"] = metadata["user_id"]
    tools = body.get("tools")
    if tools:
        _tools(tools, body.get("tool_choice"), out)
    effort = reasoning_effort(body)
    if effort is not None:
        out["reasoning_effort"] = effort
    output_config = body.get("output_config")
    fmt = output_config.get("format") if isinstance(output_config, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and isinstance(fmt.get("schema"), dict):
        out["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": str(fmt.get("name") or "response"), "schema": fmt["schema"], "strict": True},
        }
    if body.get("stream") is True:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}


def reasoning_effort(body: dict[str, Any]) -> str | None:
    """``output_config.effort`` as it is, else from ``thinking``: ``enabled`` with a budget
    up to 2048 tokens -> low, up to 12288 -> medium, more -> high; ``adaptive`` ->
    medium; ``disabled`` or absent -> None (the target's default)."""
    output_config = body.get("output_config")
    effort = output_config.get("effort") if isinstance(output_config, dict) else None
    if isinstance(effort, str) and effort:
        return effort
    thinking = body.get("thinking")
    if thinking is None:
        return None
    if not isinstance(thinking, dict) or not isinstance(thinking.get("type"), str):
        raise InvalidRequestError("thinking: must be an object with a 'type'")
    kind = thinking["type"]
    if kind == "adaptive":
        return "medium"
    if kind != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
        raise InvalidRequestError("thinking.budget_tokens: Field required (a positive integer)")
    return next((name for limit, name in _EFFORT_BUDGETS if budget <= limit), "high")


# --- content -------------------------------------------------------------------------------


def _system_content(system: Any) -> str | list[Part]:
    if isinstance(system, str):
        return system
    if not isinstance(system, list):
        raise InvalidRequestError("system: must be a string or an array of text blocks")
    parts = []
    for j, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise InvalidRequestError(f"system.{j}: system blocks must be text blocks")
        parts.append(_text_part(block))
    return parts


def _text_part(block: dict[str, Any]) -> Part:
    part: Part = {"type": "text", "text": block["text"]}
    if isinstance(block.get("cache_control"), dict):
        part["cache_control"] = block["cache_control"]
    return part


def _blocks(content: Any) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _user_messages(content: Any, i: int) -> list[dict[str, Any]]:
    """One user turn: its tool results first (chat wants them right after the assistant's
    tool calls), then a user message with the other parts."""
    out: list[dict[str, Any]] = []
    parts: list[Part] = []
    for j, block in enumerate(_blocks(content)):
        where = f"messages.{i}.content.{j}"
        if not isinstance(block, dict):
            raise InvalidRequestError(f"{where}: a content block must be an object with a string 'type'")
        if block.get("type") == "tool_result":
            tool, extra = _tool_result(block, where)
            out.append(tool)
            parts.extend(extra)
        else:
            parts.append(content_part(block, where))
    if parts:
        if len(parts) == 1 and parts[0]["type"] == "text" and "cache_control" not in parts[0]:
            out.append({"role": "user", "content": parts[0]["text"]})
        else:
            out.append({"role": "user", "content": parts})
    return out


def content_part(block: dict[str, Any], where: str) -> Part:
    """One Anthropic user content block as an OpenAI content part."""
    kind = block.get("type")
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise InvalidRequestError(f"{where}.text: must be a string")
        return _text_part(block)
    source = block.get("source")
    if kind in ("image", "document") and isinstance(source, dict):
        part = _source_part(kind, source, where)
        if isinstance(block.get("cache_control"), dict):
            part["cache_control"] = block["cache_control"]
        return part
    raise InvalidRequestError(
        f"{where}: content block type {kind!r} cannot be sent to this provider account "
        "(it takes text, image, document and tool_result blocks)"
    )


def _source_part(kind: str, source: dict[str, Any], where: str) -> Part:
    source_type = source.get("type")
    if source_type == "base64" and isinstance(source.get("data"), str) and isinstance(source.get("media_type"), str):
        uri = f"data:{source['media_type']};base64,{source['data']}"
        if kind == "image":
            return {"type": "image_url", "image_url": {"url": uri}}
        return {"type": "file", "file": {"file_data": uri, "filename": "document.pdf"}}
    if source_type == "url" and isinstance(source.get("url"), str):
        if kind == "image":
            return {"type": "image_url", "image_url": {"url": source["url"]}}
        raise InvalidRequestError(f"{where}: a document by URL cannot be sent to this provider account (use base64)")
    if source_type == "file" and isinstance(source.get("file_id"), str):
        file: dict[str, Any] = {"file_id": source["file_id"]}
        if kind == "image":
            file["format"] = "image/*"
        return {"type": "file", "file": file}
    if source_type == "text" and kind == "document" and isinstance(source.get("data"), str):
        return {"type": "text", "text": source["data"]}
    raise InvalidRequestError(f"{where}.source: unsupported {kind} source type {source_type!r}")


def _tool_result(block: dict[str, Any], where: str) -> tuple[dict[str, Any], list[Part]]:
    """A ``tool`` message (its text), and the result's non-text parts for the user turn."""
    call_id = block.get("tool_use_id")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequestError(f"{where}.tool_use_id: Field required")
    content = block.get("content")
    texts: list[str] = []
    extra: list[Part] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for k, item in enumerate(content):
            part = content_part(item if isinstance(item, dict) else {}, f"{where}.content.{k}")
            if part["type"] == "text":
                texts.append(part["text"])
            else:
                extra.append(part)
    elif content is not None:
        raise InvalidRequestError(f"{where}.content: must be a string or an array of blocks")
    text = "\n".join(texts)
    if block.get("is_error") is True:
        text = "Error: " + text if text else "Error"
    return {"role": "tool", "tool_call_id": call_id, "content": text}, extra


def _assistant_message(content: Any, i: int) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    thinking: list[dict[str, Any]] = []
    for j, block in enumerate(_blocks(content)):
        where = f"messages.{i}.content.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_use" and isinstance(block.get("id"), str) and isinstance(block.get("name"), str):
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(
                {"id": block["id"], "type": "function", "function": {"name": block["name"], "arguments": arguments}}
            )
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            thinking.append(
                {"type": "thinking", "thinking": block["thinking"], "signature": block.get("signature") or ""}
            )
        elif kind == "redacted_thinking" and isinstance(block.get("data"), str):
            thinking.append({"type": "redacted_thinking", "data": block["data"]})
        else:
            raise InvalidRequestError(
                f"{where}: assistant block type {kind!r} cannot be sent to this provider account "
                "(it takes text, tool_use and thinking blocks)"
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["thinking_blocks"] = thinking
    return message


# --- tools -----------------------------------------------------------------------------------


def _tools(tools: Any, choice: Any, out: dict[str, Any]) -> None:
    if not isinstance(tools, list):
        raise InvalidRequestError("tools: must be an array of tool objects")
    functions = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise InvalidRequestError(f"tools.{i}: must be an object")
        kind = tool.get("type")
        if isinstance(kind, str) and kind.startswith("web_search_"):
            out["web_search_options"] = _web_search_options(tool)
            continue
        if kind not in (None, "custom") or not isinstance(tool.get("name"), str):
            raise InvalidRequestError(
                f"tools.{i}: tool type {kind!r} cannot be sent to this provider account "
                "(it takes custom tools with a name and input_schema, and web_search)"
            )
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise InvalidRequestError(f"tools.{i}.input_schema: Field required (a JSON schema object)")
        function: dict[str, Any] = {"name": tool["name"], "parameters": schema}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        converted: dict[str, Any] = {"type": "function", "function": function}
        if isinstance(tool.get("cache_control"), dict):
            converted["cache_control"] = tool["cache_control"]
        functions.append(converted)
    if functions:
        out["tools"] = functions
        _tool_choice(choice, out)


def _web_search_options(tool: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    location = tool.get("user_location")
    if isinstance(location, dict):
        approximate = {k: v for k, v in location.items() if k in ("city", "country", "region", "timezone")}
        options["user_location"] = {"type": "approximate", "approximate": approximate}
    return options


def _tool_choice(choice: Any, out: dict[str, Any]) -> None:
    if choice is None:
        return
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "auto":
        out["tool_choice"] = "auto"
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "none":
        out["tool_choice"] = "none"
    elif kind == "tool" and isinstance(choice.get("name"), str):
        out["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    else:
        raise InvalidRequestError("tool_choice: must be {type: auto | any | none} or {type: tool, name}")
    if choice.get("disable_parallel_tool_use") is True and kind != "none":
        out["parallel_tool_calls"] = False
