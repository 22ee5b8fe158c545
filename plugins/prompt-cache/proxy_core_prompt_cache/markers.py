"""cache_control in a canonical chat body: strip it, or bound the marked prefix.

Anthropic caches the prefix up to a ``cache_control`` breakpoint in the order tools,
system, messages. :func:`prefix_upper_bound` bounds the tokens of the longest marked
prefix from above by its UTF-8 size (a token is at least one byte) plus generous
framing overheads, so a bound below the model's minimum means surely nothing is cached.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.errors import InvalidRequestError

KEY = "cache_control"
TOOLS_OVERHEAD = 1024  # the tool-use system prompt Anthropic adds, with room to spare
BLOCK_OVERHEAD = 16  # role and block framing per message or part


def strip(body: dict[str, Any]) -> int:
    """Remove every ``cache_control`` (messages, their parts, tools); return how many.
    A mark that is not an object is a 400 naming it, as it would be where it is kept."""
    if not has_marks(body):
        return 0  # the usual case: nothing to strip, no walk naming every block
    count = 0
    for i, message in enumerate(_list(body.get("messages"))):
        if not isinstance(message, dict):
            continue
        count += _pop_mark(message, f"messages[{i}]")
        for j, part in enumerate(_list(message.get("content"))):
            if isinstance(part, dict):
                count += _pop_mark(part, f"messages[{i}].content[{j}]")
    for i, tool in enumerate(_list(body.get("tools"))):
        if isinstance(tool, dict):
            count += _pop_mark(tool, f"tools[{i}]")
            function = tool.get("function")
            if isinstance(function, dict):
                count += _pop_mark(function, f"tools[{i}].function")
    return count


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pop_mark(holder: dict[str, Any], where: str) -> int:
    mark = holder.pop(KEY, None)
    if mark is None:
        return 0
    if not isinstance(mark, dict):
        raise InvalidRequestError(f"{where}.cache_control must be an object", param=f"{where}.cache_control")
    return 1


def has_marks(body: dict[str, Any]) -> bool:
    """Is there a ``cache_control`` where :func:`_segments` looks for one (messages, their
    parts, tools, tools' functions)? A cheap check before sizing the prefix."""
    for message in _list(body.get("messages")):
        if isinstance(message, dict):
            if KEY in message:
                return True
            content = message.get("content")
            if isinstance(content, list) and any(isinstance(part, dict) and KEY in part for part in content):
                return True
    for tool in _list(body.get("tools")):
        if isinstance(tool, dict):
            function = tool.get("function")
            if KEY in tool or (isinstance(function, dict) and KEY in function):
                return True
    return False


def _segments(body: dict[str, Any]) -> list[tuple[int | None, bool]]:
    """(size bound or None when unknowable, marked) per block, in Anthropic's prefix order."""
    tools = [t for t in _list(body.get("tools")) if isinstance(t, dict)]
    out: list[tuple[int | None, bool]] = []
    for i, tool in enumerate(tools):
        size = len(orjson.dumps(tool)) + (TOOLS_OVERHEAD if i == 0 else 0)
        function = tool.get("function")
        out.append((size, KEY in tool or (isinstance(function, dict) and KEY in function)))
    messages = [m for m in _list(body.get("messages")) if isinstance(m, dict)]
    system = [m for m in messages if m.get("role") in ("system", "developer")]
    rest = [m for m in messages if m.get("role") not in ("system", "developer")]
    for message in system + rest:
        out += _message_segments(message)
    return out


def _message_segments(message: dict[str, Any]) -> list[tuple[int | None, bool]]:
    marked = KEY in message
    content = message.get("content")
    extra = message.get("tool_calls") or message.get("thinking_blocks")
    base = BLOCK_OVERHEAD + (len(orjson.dumps(extra)) if extra else 0)
    if isinstance(content, str) or content is None:
        return [(base + len((content or "").encode()), marked)]
    if not isinstance(content, list):
        return [(None, marked)]
    out: list[tuple[int | None, bool]] = [(base, False)]
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            out.append((BLOCK_OVERHEAD + len(part["text"].encode()), KEY in part))
        else:  # images, documents: their token count is not knowable from here
            out.append((None, isinstance(part, dict) and KEY in part))
    out[-1] = (out[-1][0], out[-1][1] or marked)
    return out


def prefix_upper_bound(body: dict[str, Any]) -> int | None:
    """An upper bound of the tokens up to the last breakpoint; None when nothing is
    marked or the prefix holds something whose size cannot be bounded (an image)."""
    if not has_marks(body):
        return None
    total = 0
    bound: int | None = None
    unknown = False
    for size, marked in _segments(body):
        if size is None:
            unknown = True
        else:
            total += size
        if marked:
            bound = None if unknown else total
    return bound
