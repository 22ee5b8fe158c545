"""Readers of the canonical request (the Chat Completions shape) for provider adapters.

Every translator needs the same few facts from a chat body, checked the same way: the
output-token limit, an assistant tool call's id, name and arguments, a function tool's
name, description and schema. Wrong types are a 400 naming the field.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from .errors import InvalidRequestError


def max_output_tokens(body: dict[str, Any]) -> int | None:
    """``max_completion_tokens``, else ``max_tokens`` (a positive integer), else None."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequestError(f"'{name}' must be a positive integer", param=name)
        return value
    return None


class ToolCall(NamedTuple):
    id: str
    name: str
    arguments: dict[str, Any]


def tool_call(call: Any, where: str) -> ToolCall:
    """An assistant message's ``tool_calls[i]``, its JSON arguments parsed (empty -> {})."""
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(fn, dict) or not isinstance(call.get("id"), str) or not isinstance(fn.get("name"), str):
        raise InvalidRequestError(f"{where} must have a string 'id' and 'function.name'", param=where)
    arguments = fn.get("arguments")
    if arguments is None or arguments == "":
        args: Any = {}
    elif isinstance(arguments, str):
        try:
            args = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            raise InvalidRequestError(f"{where}.function.arguments is not valid JSON", param=where) from None
    else:
        args = arguments
    if not isinstance(args, dict):
        raise InvalidRequestError(f"{where}.function.arguments must encode a JSON object", param=where)
    return ToolCall(call["id"], fn["name"], args)


class FunctionTool(NamedTuple):
    name: str
    description: str | None
    parameters: dict[str, Any] | None


def function_tool(fn: dict[str, Any], i: int) -> FunctionTool:
    """``tools[i].function`` (its ``name`` already checked to be a string)."""
    description = fn.get("description")
    if description is not None and not isinstance(description, str):
        where = f"tools[{i}].function.description"
        raise InvalidRequestError(f"{where} must be a string", param=where)
    schema = fn.get("parameters")
    if schema is not None and not isinstance(schema, dict):
        where = f"tools[{i}].function.parameters"
        raise InvalidRequestError(f"{where} must be a JSON schema object", param=where)
    return FunctionTool(fn["name"], description or None, schema)
