"""Anthropic error bodies and in-stream ``error`` events -> :class:`UpstreamError`.

The error keeps the upstream status and message, gets the OpenAI error type of
``ANTHROPIC_ERROR_TYPES`` for the chat route, and keeps Anthropic's body as ``raw`` so
the native route returns it unchanged.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.errors import ANTHROPIC_ERROR_TYPES, UpstreamError, anthropic_type_for_status


def error_from_body(status: int, body: bytes, headers: dict[str, str]) -> UpstreamError:
    """An HTTP error response of the Messages API."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    detail = data.get("error") if isinstance(data, dict) else None
    if not isinstance(detail, dict):
        return UpstreamError(f"upstream returned HTTP {status}", status=status, headers=headers)
    kind = _str(detail.get("type")) or anthropic_type_for_status(status)
    message = _str(detail.get("message")) or f"upstream returned HTTP {status}"
    known = ANTHROPIC_ERROR_TYPES.get(kind)
    return UpstreamError(
        message,
        status=status,
        anthropic_type=kind,
        openai_type=known[1] if known else None,
        raw=body,
        raw_api="anthropic",
        headers=headers,
    )


def error_from_event(data: Any) -> UpstreamError:
    """An ``event: error`` inside a stream; the status comes from the error type."""
    detail = data.get("error") if isinstance(data, dict) else None
    if not isinstance(detail, dict):
        detail = {}
    kind = _str(detail.get("type")) or "api_error"
    message = _str(detail.get("message")) or "the upstream stream failed"
    status, openai_type = ANTHROPIC_ERROR_TYPES.get(kind, (500, "server_error"))
    return UpstreamError(message, status=status, anthropic_type=kind, openai_type=openai_type)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
