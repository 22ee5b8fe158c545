"""Google API error answers (``{"error": {"code", "message", "status"}}``) -> :class:`UpstreamError`.

The HTTP status and Google's message are kept; Google's canonical status name
(``INVALID_ARGUMENT``, ``PERMISSION_DENIED``, ``RESOURCE_EXHAUSTED``, ``UNAVAILABLE``...)
becomes the error's ``code``, so clients of either API see which case it was. A key the
Gemini API does not accept comes back as a 400 with reason ``API_KEY_INVALID``: that is
the account's fault, not the client's, so it becomes the same 502 as a rejected
credential (the detail goes to the log).
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog

from proxy_core.errors import UpstreamError

log = structlog.get_logger("proxy_core.gemini")

# Google's canonical codes by HTTP status, for bodies that lack ``status``.
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})


def _reasons(detail: dict[str, Any]) -> set[str]:
    found = set()
    for item in detail.get("details") or []:
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            found.add(item["reason"])
    return found


def error_from_body(status: int, body: bytes, headers: dict[str, str], account: str) -> UpstreamError:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, list) and data:  # streamGenerateContent without alt=sse answers in arrays
        data = data[0]
    detail = data.get("error") if isinstance(data, dict) else None
    if not isinstance(detail, dict):
        return UpstreamError(f"upstream returned HTTP {status}", status=status, headers=headers)
    name = detail.get("status") if isinstance(detail.get("status"), str) else _STATUS_NAMES.get(status)
    message = detail.get("message") if isinstance(detail.get("message"), str) else f"upstream returned HTTP {status}"
    if status == 400 and _reasons(detail) & _KEY_REASONS:
        log.warning("upstream.credentials_rejected", account=account, status=status, detail=message)
        return UpstreamError(
            f"provider account '{account}' rejected the gateway's credentials (upstream HTTP 400 API_KEY_INVALID); "
            "the gateway's operator must fix the account's key",
            status=502,
            code="upstream_credentials_rejected",
            openai_type="upstream_error",
        )
    return UpstreamError(message, status=status, code=name, headers=headers)


def error_from_event(data: dict[str, Any]) -> UpstreamError:
    """An error object inside a stream (``data: {"error": {...}}``)."""
    detail = data.get("error")
    detail = detail if isinstance(detail, dict) else {}
    code = detail.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    message = detail.get("message") if isinstance(detail.get("message"), str) else "the upstream stream failed"
    name = detail.get("status") if isinstance(detail.get("status"), str) else _STATUS_NAMES.get(status)
    return UpstreamError(message, status=status, code=name)
