"""Shape checks of a native Messages body, beyond the core's (model, roles, max_tokens).

A malformed body gets a 400 in Anthropic's shape here, without an upstream call. The
checks are structural only (the upstream stays the judge of values), one pass, no copy.
"""

from __future__ import annotations

from typing import Any

from proxy_core.errors import InvalidRequestError


def _fail(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


def _check_blocks(blocks: list[Any], where: str) -> None:
    for j, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise _fail(f"{where}.{j}: a content block must be an object with a string 'type'")


def validate_native(body: dict[str, Any]) -> None:
    system = body.get("system")
    if system is not None:
        if isinstance(system, list):
            _check_blocks(system, "system")
            for j, block in enumerate(system):
                if block["type"] != "text" or not isinstance(block.get("text"), str):
                    raise _fail(f"system.{j}: system blocks must be text blocks")
        elif not isinstance(system, str):
            raise _fail("system: must be a string or an array of text blocks")
    for i, msg in enumerate(body["messages"]):
        content = msg["content"]
        if isinstance(content, list):
            _check_blocks(content, f"messages.{i}.content")
    tools = body.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools)):
        raise _fail("tools: must be an array of tool objects")
    stop = body.get("stop_sequences")
    if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)):
        raise _fail("stop_sequences: must be an array of strings")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _fail(f"{name}: must be a number")
