"""OpenAI Chat Completions request -> Gemini ``generateContent`` request.

Pure functions of the canonical body, shared by every provider of this wire format (the
Gemini API, Gemini models on Vertex AI). Bad input raises :class:`InvalidRequestError`
(a 400 before any upstream call). Messages and tools here; content parts in
:mod:`.parts`; ``generationConfig`` in :mod:`.params`.

* ``system`` / ``developer`` messages, wherever they stand -> ``systemInstruction``.
* ``user`` -> role ``user``; ``assistant`` -> role ``model``; ``tool`` -> a
  ``functionResponse`` part of a ``user`` turn. Consecutive turns of one role merge, so
  parallel tool results share one turn, as Gemini requires.
* Tool calls: Gemini names a call's result by the function's name, OpenAI by the call's
  id: the name is looked up from the assistant turn that made the call. Ids are the
  gateway's (see :mod:`.response`) and are not sent upstream.
* ``thought_signature`` of a tool call goes back on its ``functionCall`` part; the
  signature in an assistant's ``thinking_blocks`` goes back on its first text part.
  Thought summaries (``reasoning_content``) are never sent back.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.canonical import function_tool, tool_call
from proxy_core.errors import InvalidRequestError

from .parts import Part, PartContext, user_part

Content = dict[str, Any]
_SYSTEM_ROLES = frozenset({"system", "developer"})
SEARCH_TOOL = "google_search"
_CHOICE_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def translate_messages(messages: list[dict[str, Any]], ctx: PartContext) -> tuple[Content | None, list[Content]]:
    system: list[Part] = []
    contents: list[Content] = []
    names: dict[str, str] = {}  # tool call id -> function name
    for i, msg in enumerate(messages):
        role = msg["role"]
        if role in _SYSTEM_ROLES:
            system.extend(_system_parts(msg.get("content"), i))
            continue
        if role == "user":
            parts = _user_parts(msg.get("content"), i, ctx)
            wire_role = "user"
        elif role == "assistant":
            parts = _model_parts(msg, i, names)
            wire_role = "model"
        elif role == "tool":
            parts = [_function_response(msg, i, names)]
            wire_role = "user"
        else:
            raise InvalidRequestError(
                f"messages[{i}].role: unsupported role {role!r} (use system, developer, user, assistant or tool)",
                param=f"messages[{i}].role",
            )
        if not parts:
            continue
        if contents and contents[-1]["role"] == wire_role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": wire_role, "parts": parts})
    if not contents:
        raise InvalidRequestError("messages: at least one user or assistant message is required", param="messages")
    return ({"parts": system} if system else None), contents


def _system_parts(content: Any, i: int) -> list[Part]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise InvalidRequestError(
            f"messages[{i}].content must be a string or an array of text parts", param=f"messages[{i}].content"
        )
    out = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            where = f"messages[{i}].content[{j}]"
            raise InvalidRequestError(f"{where}: a system message takes only text parts", param=where)
        out.append({"text": part["text"]})
    return out


def _user_parts(content: Any, i: int, ctx: PartContext) -> list[Part]:
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise InvalidRequestError(
            f"messages[{i}].content must be a string or an array of content parts", param=f"messages[{i}].content"
        )
    return [user_part(part, f"messages[{i}].content[{j}]", ctx) for j, part in enumerate(content)]


def _model_parts(msg: dict[str, Any], i: int, names: dict[str, str]) -> list[Part]:
    parts: list[Part] = []
    content = msg.get("content")
    if isinstance(content, str):
        if content:
            parts.append({"text": content})
    elif isinstance(content, list):
        for j, part in enumerate(content):
            where = f"messages[{i}].content[{j}]"
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                if part["text"]:
                    parts.append({"text": part["text"]})
            elif isinstance(part, dict) and part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                parts.append({"text": part["refusal"]})
            else:
                raise InvalidRequestError(f"{where}: an assistant message takes only text parts", param=where)
    elif content is not None:
        raise InvalidRequestError(
            f"messages[{i}].content must be a string, an array of parts or null", param=f"messages[{i}].content"
        )
    signature = _text_signature(msg.get("thinking_blocks"), i)
    if signature and parts:  # Gemini rejects empty text parts: no text, no place for it
        parts[0]["thoughtSignature"] = signature
    calls = msg.get("tool_calls")
    if calls:
        if not isinstance(calls, list):
            raise InvalidRequestError(f"messages[{i}].tool_calls must be an array", param=f"messages[{i}].tool_calls")
        parts.extend(_function_call(call, f"messages[{i}].tool_calls[{j}]", names) for j, call in enumerate(calls))
    return parts


def _text_signature(blocks: Any, i: int) -> str | None:
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise InvalidRequestError(f"messages[{i}].thinking_blocks must be an array", param=f"messages[{i}]")
    for block in blocks:
        signature = block.get("signature") if isinstance(block, dict) else None
        if isinstance(signature, str) and signature:
            return signature
    return None


def _function_call(call: Any, where: str, names: dict[str, str]) -> Part:
    found = tool_call(call, where)
    names[found.id] = found.name
    part: Part = {"functionCall": {"name": found.name, "args": found.arguments}}
    signature = call.get("thought_signature")
    if isinstance(signature, str) and signature:
        part["thoughtSignature"] = signature
    return part


def _function_response(msg: dict[str, Any], i: int, names: dict[str, str]) -> Part:
    call_id = msg.get("tool_call_id")
    where = f"messages[{i}].tool_call_id"
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequestError(f"{where} is required for a tool message", param=where)
    name = names.get(call_id) or msg.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(
            f"{where}: no earlier assistant message has a tool call with id {call_id!r} (Gemini needs the "
            "function's name: keep the assistant message with its tool_calls in the conversation)",
            param=where,
        )
    return {"functionResponse": {"name": name, "response": _tool_output(msg.get("content"), i)}}


def _tool_output(content: Any, i: int) -> dict[str, Any]:
    """Gemini's ``response`` is an object: a JSON object result as it is, anything else
    under ``result``."""
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if len(texts) != len(content) or not all(isinstance(t, str) for t in texts):
            where = f"messages[{i}].content"
            raise InvalidRequestError(f"{where}: a tool message takes text parts only on Gemini", param=where)
        content = "".join(texts)  # type: ignore[arg-type]
    if content is None:
        return {"result": ""}
    if not isinstance(content, str):
        where = f"messages[{i}].content"
        raise InvalidRequestError(f"{where} must be a string or an array of text parts", param=where)
    if content.startswith("{"):
        try:
            parsed = orjson.loads(content)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"result": content}


# --- tools -----------------------------------------------------------------------------


def translate_tools(tools: Any) -> list[dict[str, Any]]:
    """Function tools -> one ``functionDeclarations`` tool; a function named
    ``google_search`` (or a ``{type: google_search}`` tool) -> the ``googleSearch`` tool."""
    if not isinstance(tools, list):
        raise InvalidRequestError("'tools' must be an array", param="tools")
    declarations = []
    search = False
    for i, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        fn = tool.get("function") if kind == "function" else None
        if kind == SEARCH_TOOL or (isinstance(fn, dict) and fn.get("name") == SEARCH_TOOL):
            search = True
            continue
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise InvalidRequestError(
                f"tools[{i}]: only function tools with a name (or google_search) are supported (got type {kind!r})",
                param=f"tools[{i}]",
            )
        tool_fn = function_tool(fn, i)
        declaration: dict[str, Any] = {"name": tool_fn.name}
        if tool_fn.description:
            declaration["description"] = tool_fn.description
        if tool_fn.parameters:
            declaration["parametersJsonSchema"] = tool_fn.parameters
        declarations.append(declaration)
    out: list[dict[str, Any]] = []
    if declarations:
        out.append({"functionDeclarations": declarations})
    if search:
        out.append({"googleSearch": {}})
    return out


def translate_tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    if isinstance(choice, str) and choice in _CHOICE_MODES:
        return {"functionCallingConfig": {"mode": _CHOICE_MODES[choice]}}
    if isinstance(choice, dict) and isinstance(function := choice.get("function"), dict):
        if not isinstance(function.get("name"), str):
            raise InvalidRequestError("'tool_choice.function.name' must be a string", param="tool_choice")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [function["name"]]}}
    raise InvalidRequestError(
        "'tool_choice' must be auto, none, required or {type: function, function: {name}}", param="tool_choice"
    )
