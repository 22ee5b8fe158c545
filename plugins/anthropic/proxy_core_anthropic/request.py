"""OpenAI Chat Completions request -> Anthropic Messages request.

Pure functions of the canonical body: no I/O, no provider state, so every provider that
speaks the Messages wire format (Anthropic, Claude Platform on AWS) reuses them as they
are. Bad input raises :class:`InvalidRequestError` (a 400 in OpenAI's shape, before
any upstream call). Parameters are handled by :mod:`.params`; messages and content
parts here.
"""

from __future__ import annotations

from typing import Any

from proxy_core.canonical import tool_call
from proxy_core.errors import InvalidRequestError

from .params import cache_control, translate_params
from .response import SERVER_TOOL_BLOCKS

Block = dict[str, Any]

IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_SYSTEM_ROLES = frozenset({"system", "developer"})
_PDF_B64 = "JVBERi"  # base64 of "%PDF-"


def chat_to_messages(body: dict[str, Any], model: str, default_max_tokens: int) -> tuple[dict[str, Any], list[str]]:
    """The Messages body for this chat body, and the names of the OpenAI-only
    parameters that were dropped (see :mod:`.params` for the policy)."""
    system, messages = translate_messages(body["messages"])
    out: dict[str, Any] = {"model": model}
    if system:
        out["system"] = system
    out["messages"] = messages
    dropped = translate_params(body, out, default_max_tokens)
    return out, dropped


# --- messages ----------------------------------------------------------------------------


def translate_messages(messages: list[dict[str, Any]]) -> tuple[str | list[Block] | None, list[Block]]:
    """System blocks (hoisted from wherever they stand) and the user/assistant turns,
    consecutive same-role turns merged; ``tool`` messages become ``tool_result`` blocks
    of a user turn."""
    system: list[Block] = []
    system_parts = False  # a system message given as parts keeps the block form
    turns: list[Block] = []
    for i, msg in enumerate(messages):
        role = msg["role"]
        if role in _SYSTEM_ROLES:
            content = msg.get("content")
            system_parts = system_parts or not isinstance(content, str)
            system.extend(_system_blocks(content, i))
            continue
        if role == "user":
            blocks: str | list[Block] = _user_content(msg.get("content"), i)
        elif role == "assistant":
            blocks = _assistant_content(msg, i)
            if not blocks:
                continue  # an empty assistant turn (no text, no tool calls) says nothing
        elif role == "tool":
            role, blocks = "user", [_tool_result(msg, i)]
        else:
            raise InvalidRequestError(
                f"messages[{i}].role: unsupported role {role!r} (use system, developer, user, assistant or tool)",
                param=f"messages[{i}].role",
            )
        _append_turn(turns, role, blocks)
    if len(system) == 1 and not system_parts:
        return system[0]["text"], turns  # one plain system prompt stays a plain string
    return system or None, turns


def _append_turn(turns: list[Block], role: str, content: str | list[Block]) -> None:
    if turns and turns[-1]["role"] == role:
        last = turns[-1]
        prev = last["content"]
        prev_blocks = [{"type": "text", "text": prev}] if isinstance(prev, str) else prev
        new_blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        last["content"] = prev_blocks + new_blocks
        return
    turns.append({"role": role, "content": content})


def _system_blocks(content: Any, i: int) -> list[Block]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise InvalidRequestError(
            f"messages[{i}].content must be a string or an array of text parts", param=f"messages[{i}].content"
        )
    blocks = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise InvalidRequestError(
                f"messages[{i}].content[{j}]: a system message takes only text parts",
                param=f"messages[{i}].content[{j}]",
            )
        blocks.append(_text_block(part, f"messages[{i}].content[{j}]"))
    return blocks


def _text_block(part: Block, where: str) -> Block:
    block: Block = {"type": "text", "text": part["text"]}
    if "cache_control" in part:
        block["cache_control"] = cache_control(part["cache_control"], where)
    return block


def _user_content(content: Any, i: int) -> str | list[Block]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequestError(
            f"messages[{i}].content must be a string or an array of content parts", param=f"messages[{i}].content"
        )
    return [content_part(part, f"messages[{i}].content[{j}]") for j, part in enumerate(content)]


def content_part(part: Any, where: str) -> Block:
    """One OpenAI content part as an Anthropic content block."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise InvalidRequestError(f"{where}.text must be a string", param=where)
        return _text_block(part, where)
    if kind == "image_url":
        block = _image_block(part.get("image_url"), where)
    elif kind == "file":
        block = _file_block(part.get("file"), where)
    else:
        raise InvalidRequestError(
            f"{where}: content part type {kind!r} is not supported by Anthropic models (use text, image_url or file)",
            param=where,
        )
    if "cache_control" in part:
        block["cache_control"] = cache_control(part["cache_control"], where)
    return block


def _image_block(image: Any, where: str) -> Block:
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequestError(f"{where}.image_url.url must be a non-empty string", param=where)
    if url.startswith("data:"):
        media_type, data = parse_data_uri(url, where)
        if media_type == "application/pdf":  # a PDF sent as an image (seed 003): a document block
            return {"type": "document", "source": {"type": "base64", "media_type": media_type, "data": data}}
        if media_type not in IMAGE_MEDIA_TYPES:
            raise InvalidRequestError(
                f"{where}: image media type {media_type!r} is not supported "
                f"(use one of {', '.join(sorted(IMAGE_MEDIA_TYPES))})",
                param=where,
            )
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequestError(f"{where}.image_url.url must be an http(s) URL or a data: URI", param=where)


def _file_block(file: Any, where: str) -> Block:
    if not isinstance(file, dict):
        raise InvalidRequestError(f"{where}.file must be an object", param=where)
    file_id = file.get("file_id")
    if isinstance(file_id, str) and file_id:
        # An uploaded image is an image block; `format` (or `mime_type`) says it is one.
        hint = file.get("format") or file.get("mime_type")
        kind = "image" if isinstance(hint, str) and hint.startswith("image/") else "document"
        return {"type": kind, "source": {"type": "file", "file_id": file_id}}
    file_data = file.get("file_data")
    if not isinstance(file_data, str) or not file_data:
        raise InvalidRequestError(
            f"{where}.file needs 'file_id' or 'file_data' as a data: URI (data:application/pdf;base64,...)",
            param=where,
        )
    if file_data.startswith("data:"):
        media_type, data = parse_data_uri(file_data, where)
    else:  # bare base64: the media type from `mime_type`, or a PDF recognised by its magic
        mime = file.get("mime_type")
        media_type = mime if isinstance(mime, str) else ("application/pdf" if file_data.startswith(_PDF_B64) else "")
        data = file_data
    if media_type != "application/pdf":
        raise InvalidRequestError(
            f"{where}: file media type {media_type!r} is not supported (use application/pdf)", param=where
        )
    return {"type": "document", "source": {"type": "base64", "media_type": media_type, "data": data}}


def parse_data_uri(uri: str, where: str) -> tuple[str, str]:
    """``data:<media type>;base64,<data>`` -> (media type, data), without copying twice."""
    head, sep, data = uri.partition(",")
    if not sep or not head.endswith(";base64") or not data:
        raise InvalidRequestError(
            f"{where}: expected a base64 data: URI (data:<media type>;base64,<data>)", param=where
        )
    media_type = head[5:-7].split(";", 1)[0].strip().lower()
    return media_type, data


def _assistant_content(msg: dict[str, Any], i: int) -> list[Block]:
    """Thinking blocks first (signatures untouched), then server-tool blocks, then
    text, then tool_use."""
    blocks: list[Block] = []
    thinking = msg.get("thinking_blocks")
    if thinking:
        if not isinstance(thinking, list):
            raise InvalidRequestError(f"messages[{i}].thinking_blocks must be an array", param=f"messages[{i}]")
        blocks.extend(_thinking_block(b, i) for b in thinking)
    server = msg.get(SERVER_TOOL_BLOCKS)  # web searches of an earlier answer, sent back
    if isinstance(server, list):
        blocks.extend({k: v for k, v in b.items() if k != "index"} for b in server if isinstance(b, dict))
    content = msg.get("content")
    if isinstance(content, str):
        if content:
            blocks.append({"type": "text", "text": content})
    elif isinstance(content, list):
        for j, part in enumerate(content):
            where = f"messages[{i}].content[{j}]"
            if isinstance(part, dict) and part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                blocks.append({"type": "text", "text": part["refusal"]})
            elif isinstance(part, dict) and part.get("type") == "text":
                if part.get("text"):
                    blocks.append(content_part(part, where))
            else:
                raise InvalidRequestError(f"{where}: an assistant message takes only text parts", param=where)
    elif content is not None:
        raise InvalidRequestError(
            f"messages[{i}].content must be a string, an array of parts or null", param=f"messages[{i}].content"
        )
    tool_calls = msg.get("tool_calls")
    if tool_calls:
        if not isinstance(tool_calls, list):
            raise InvalidRequestError(f"messages[{i}].tool_calls must be an array", param=f"messages[{i}].tool_calls")
        blocks.extend(_tool_use(call, f"messages[{i}].tool_calls[{j}]") for j, call in enumerate(tool_calls))
    return blocks


def _thinking_block(block: Any, i: int) -> Block:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "thinking" and isinstance(block.get("thinking"), str) and isinstance(block.get("signature"), str):
        return {"type": "thinking", "thinking": block["thinking"], "signature": block["signature"]}
    if kind == "redacted_thinking" and isinstance(block.get("data"), str):
        return {"type": "redacted_thinking", "data": block["data"]}
    raise InvalidRequestError(
        f"messages[{i}].thinking_blocks: each block must be {{type: thinking, thinking, signature}} "
        "or {type: redacted_thinking, data}",
        param=f"messages[{i}].thinking_blocks",
    )


def _tool_use(call: Any, where: str) -> Block:
    found = tool_call(call, where)
    return {"type": "tool_use", "id": found.id, "name": found.name, "input": found.arguments}


def _tool_result(msg: dict[str, Any], i: int) -> Block:
    call_id = msg.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequestError(
            f"messages[{i}].tool_call_id is required for a tool message", param=f"messages[{i}].tool_call_id"
        )
    content = msg.get("content")
    block: Block = {"type": "tool_result", "tool_use_id": call_id}
    if isinstance(content, str):
        block["content"] = content
    elif isinstance(content, list):
        block["content"] = [content_part(p, f"messages[{i}].content[{j}]") for j, p in enumerate(content)]
    elif content is not None:
        raise InvalidRequestError(
            f"messages[{i}].content must be a string or an array of parts", param=f"messages[{i}].content"
        )
    return block
