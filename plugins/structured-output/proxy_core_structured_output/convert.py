"""Structured output through a forced tool: the request side, the answer, the stream.

The tool is added to the canonical (OpenAI-shaped) request, so any provider adapter
translates it; its input comes back as ``message.content`` (a JSON string), with
``finish_reason`` ``stop`` and no ``tool_calls`` unless the client's own tools were
called too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxy_core.errors import InvalidRequestError

DEFAULT_TOOL = "json_output"


def add_output_tool(body: dict[str, Any], name: str, schema: dict[str, Any], thinking: bool) -> None:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise InvalidRequestError("'tools' must be an array", param="tools")
    if thinking:
        raise InvalidRequestError(
            "response_format needs a forced tool on this model, and thinking (reasoning_effort) forbids forcing "
            "one: use a model with native structured output, or no reasoning_effort",
            param="response_format",
        )
    if any(_tool_name(t) == name for t in tools):
        raise InvalidRequestError(
            f"response_format: the schema name {name!r} is also a tool's name: rename one", param="response_format"
        )
    description = f"Give the final answer ({name}) as this tool's input: it must match the schema."
    tool = {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
    choice = body.get("tool_choice")
    if not tools:
        body["tool_choice"] = {"type": "function", "function": {"name": name}}
    elif choice == "none":
        raise InvalidRequestError(
            "response_format with tool_choice 'none' cannot be served on this model (it needs a tool)",
            param="tool_choice",
        )
    elif not isinstance(choice, dict):
        body["tool_choice"] = "required"  # the answer is the output tool, or a client tool call
    body["tools"] = [*tools, tool]


def _tool_name(tool: Any) -> Any:
    function = tool.get("function") if isinstance(tool, dict) else None
    return function.get("name") if isinstance(function, dict) else None


def unwrap_response(response: dict[str, Any], name: str) -> None:
    """The output tool's arguments become ``message.content``; other calls stay."""
    for choice in response.get("choices") or []:
        message = choice.get("message") or {}
        calls = message.get("tool_calls") or []
        ours = [c for c in calls if (c.get("function") or {}).get("name") == name]
        if not ours:
            continue
        message["content"] = ours[0]["function"].get("arguments") or "{}"
        rest = [c for c in calls if c not in ours]
        if rest:
            message["tool_calls"] = rest
        else:
            message.pop("tool_calls", None)
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "stop"


def stream_unwrapper(name: str) -> Callable[[Any], list[Any]]:
    """Per-chunk: the output tool's argument fragments become ``delta.content``; other
    tool calls are re-indexed around it; ``finish_reason`` ``tool_calls`` becomes ``stop``
    when only the output tool was called."""
    ours: int | None = None
    others = 0  # client tool calls seen

    def transform(chunk: Any) -> list[Any]:
        nonlocal ours, others
        if not isinstance(chunk, dict):
            return [chunk]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            calls = delta.get("tool_calls")
            if calls:
                kept = []
                text: list[str] = []
                for call in calls:
                    index = call.get("index")
                    function = call.get("function") or {}
                    if ours is None and function.get("name") == name:
                        ours = index
                    if index == ours:
                        if function.get("arguments"):
                            text.append(function["arguments"])
                        continue
                    if "id" in call:
                        others += 1
                    if ours is not None and isinstance(index, int) and index > ours:
                        call["index"] = index - 1
                    kept.append(call)
                if kept:
                    delta["tool_calls"] = kept
                else:
                    del delta["tool_calls"]
                if text:
                    delta["content"] = (delta.get("content") or "") + "".join(text)
            if choice.get("finish_reason") == "tool_calls" and ours is not None and not others:
                choice["finish_reason"] = "stop"
        return [chunk]

    return transform
