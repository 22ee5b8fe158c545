"""One exception hierarchy for everything a request can fail with, rendered per client API.

OpenAI routes get ``{"error": {"message", "type", "param", "code"}}``; Anthropic routes get
``{"type": "error", "error": {"type", "message"}}``. After a 200 has been sent, the same
error becomes an in-stream event in the client's shape (see ``operations``).
"""

from __future__ import annotations

from typing import Any

import orjson

# Anthropic error type -> (HTTP status, OpenAI error type)
ANTHROPIC_ERROR_TYPES: dict[str, tuple[int, str]] = {
    "invalid_request_error": (400, "invalid_request_error"),
    "authentication_error": (401, "authentication_error"),
    "permission_error": (403, "permission_error"),
    "not_found_error": (404, "not_found_error"),
    "request_too_large": (413, "invalid_request_error"),
    "rate_limit_error": (429, "rate_limit_error"),
    "api_error": (500, "server_error"),
    "timeout_error": (504, "timeout_error"),
    "overloaded_error": (529, "overloaded_error"),
}

_STATUS_TO_ANTHROPIC: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    431: "invalid_request_error",
    499: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_type_for_status(status: int) -> str:
    return _STATUS_TO_ANTHROPIC.get(status, "api_error" if status >= 500 else "invalid_request_error")


class ProxyError(Exception):
    """Base of every error the gateway reports to a client."""

    status: int = 500
    openai_type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        openai_type: str | None = None,
        anthropic_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if openai_type is not None:
            self.openai_type = openai_type
        self.param = param
        self._anthropic_type = anthropic_type
        self.headers = headers or {}

    @property
    def anthropic_type(self) -> str:
        return self._anthropic_type or anthropic_type_for_status(self.status)

    def openai_body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.openai_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def anthropic_body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.anthropic_type, "message": self.message}}

    def body_for(self, api: str) -> bytes:
        return orjson.dumps(self.anthropic_body() if api == "anthropic" else self.openai_body())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"


class InvalidRequestError(ProxyError):
    status = 400
    openai_type = "invalid_request_error"


MISSING_KEY_MESSAGE = "Missing or invalid gateway API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'"


class AuthenticationError(ProxyError):
    status = 401
    openai_type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(ProxyError):
    status = 403
    openai_type = "permission_error"


class NotFoundError(ProxyError):
    status = 404
    openai_type = "invalid_request_error"
    code = "model_not_found"


class RequestTooLargeError(ProxyError):
    status = 413
    openai_type = "invalid_request_error"
    code = "request_too_large"


class RequestTimeoutError(ProxyError):
    """The client did not send its whole request in time."""

    status = 408
    openai_type = "invalid_request_error"
    code = "request_timeout"


class HeadersTooLargeError(ProxyError):
    status = 431
    openai_type = "invalid_request_error"
    code = "request_header_fields_too_large"


class RateLimitError(ProxyError):
    status = 429
    openai_type = "rate_limit_error"


class ServiceUnavailableError(ProxyError):
    """The gateway cannot serve this request now (draining, provider not configured)."""

    status = 503
    openai_type = "service_unavailable"


class ProviderNotConfiguredError(ServiceUnavailableError):
    code = "provider_not_configured"


class GatewayTimeoutError(ProxyError):
    status = 504
    openai_type = "timeout_error"
    code = "upstream_timeout"


class UpstreamConnectionError(ProxyError):
    status = 502
    openai_type = "upstream_connection_error"
    code = "upstream_connection_error"


class ClientClosedError(ProxyError):
    """The client went away; never sent, only recorded (nginx's 499)."""

    status = 499
    openai_type = "client_closed_request"


class UpstreamError(ProxyError):
    """An error the provider returned: keeps its status, type, message and raw body.

    ``raw`` is the provider's own error body, returned unchanged (but for the account's
    secrets, scrubbed) on native passthrough routes (Anthropic's /v1/messages to an
    Anthropic-wire provider).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        openai_type: str | None = None,
        anthropic_type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        raw: bytes | None = None,
        raw_api: str | None = None,
        headers: dict[str, str] | None = None,
        actionable: bool = False,
    ) -> None:
        super().__init__(
            message,
            status=status,
            openai_type=openai_type or _openai_type_for_status(status),
            anthropic_type=anthropic_type,
            code=code,
            param=param,
            headers=headers,
        )
        self.raw = raw
        self.raw_api = raw_api
        # The message says what to do and is safe for clients (no account identifiers):
        # kept when the core rewrites the error (a 401/403 becomes a 502).
        self.actionable = actionable

    def body_for(self, api: str) -> bytes:
        if self.raw is not None and self.raw_api == api:
            return self.raw
        return super().body_for(api)


def _openai_type_for_status(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "invalid_request_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "server_error" if status >= 500 else "invalid_request_error")


def internal_error() -> ProxyError:
    """What a client sees when a plugin or the core fails unexpectedly: no internals leak."""
    return ProxyError("internal gateway error", status=500, code="internal_error")
