"""The gateway's input-token estimate for a Messages body, where the target has no
counter of its own (``count_tokens``) or reports usage only at the end of a stream
(``message_start``).

tokens = ceil(text characters / 4) + 1,600 per image + 3,000 per document, where the
text is every string of ``system``, ``messages`` and ``tools`` but base64 data, URLs and
signatures. It is an estimate: answers that carry it say so (``x-proxy-core-token-count:
estimate``); the exact count arrives in ``message_delta``.
"""

from __future__ import annotations

from typing import Any

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1600  # Anthropic: (width x height) / 750, ~1,600 for a 1.15-megapixel image
DOCUMENT_TOKENS = 3000  # no page count without parsing the PDF: a few pages' worth
_NOT_TEXT = frozenset({"data", "url", "signature", "file_id", "media_type", "type", "id", "tool_use_id", "role"})


def estimate_input_tokens(body: dict[str, Any]) -> int:
    chars = 0
    fixed = 0
    stack: list[Any] = [body.get("system"), body.get("messages"), body.get("tools")]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            chars += len(node)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind == "image":
                fixed += IMAGE_TOKENS
            elif kind == "document":
                fixed += DOCUMENT_TOKENS
            stack.extend(value for key, value in node.items() if key not in _NOT_TEXT)
    return max(1, -(-chars // CHARS_PER_TOKEN) + fixed)
