"""Bedrock error answers and in-stream exceptions -> :class:`UpstreamError`.

The exception type comes from the ``x-amzn-errortype`` header (``ThrottlingException:
http://internal.amazon.com/...``), the body's ``__type``, or, in a stream, the event's
``:exception-type`` (``throttlingException``). The status the client sees:

| Bedrock | status |
|---|---|
| ThrottlingException, ServiceQuotaExceededException | 429 |
| ServiceUnavailableException, ModelNotReadyException | 503 |
| ValidationException | 400 |
| ResourceNotFoundException | 404 |
| ModelTimeoutException | 504 |
| ModelErrorException, ModelStreamErrorException, InternalServerException | 502 |
| AccessDeniedException | 403 (the core makes it a 502), message naming the IAM action |

Messages are scrubbed of the account's credentials and of the operator's AWS
identifiers (ARNs, account ids); the detail goes to the log (``bedrock.upstream_error``).
"""

from __future__ import annotations

import orjson
import structlog
from proxy_core_aws.redact import aws_message, redact_identifiers, scrub

from proxy_core.errors import UpstreamError

log = structlog.get_logger("proxy_core.bedrock")

# exception type (lower-cased, without "Exception") -> (status, Anthropic error type)
_STATUS: dict[str, tuple[int, str]] = {
    "throttling": (429, "rate_limit_error"),
    "servicequotaexceeded": (429, "rate_limit_error"),
    "serviceunavailable": (503, "overloaded_error"),
    "modelnotready": (503, "overloaded_error"),
    "validation": (400, "invalid_request_error"),
    "resourcenotfound": (404, "not_found_error"),
    "modeltimeout": (504, "timeout_error"),
    "modelerror": (502, "api_error"),
    "modelstreamerror": (502, "api_error"),
    "internalserver": (502, "api_error"),
    "accessdenied": (403, "permission_error"),
}
_OPENAI_TYPES = {
    "rate_limit_error": "rate_limit_error",
    "overloaded_error": "service_unavailable",
    "invalid_request_error": "invalid_request_error",
    "not_found_error": "not_found_error",
    "timeout_error": "timeout_error",
    "permission_error": "permission_error",
    "api_error": "server_error",
}


def _key(kind: str) -> str:
    kind = kind.split(":", 1)[0].split("#")[-1].lower()
    return kind.removesuffix("exception")


def iam_action(path: str, stream: bool) -> str:
    """The ``bedrock:*`` action a request needs: Converse is authorised as InvokeModel."""
    return "bedrock:InvokeModelWithResponseStream" if stream or path.endswith("-stream") else "bedrock:InvokeModel"


def bedrock_error(
    status: int,
    body: bytes,
    headers: dict[str, str],
    *,
    account: str,
    region: str,
    model_path: str | None,
    api_key_auth: bool,
    secrets: list[str],
) -> UpstreamError:
    """An HTTP error answer of bedrock-runtime."""
    kind = headers.get("x-amzn-errortype") or _body_type(body)
    message = aws_message(body) or ""
    error = _error(_key(kind), status, message, account, secrets)
    retry_after = headers.get("retry-after")
    if retry_after:
        error.headers["retry-after"] = retry_after
    if _key(kind) == "accessdenied" or (status == 403 and "not authorized" in message.lower()):
        error = _access_denied(error, account, region, model_path or "", api_key_auth)
    if error.message != message:
        log.warning(
            "bedrock.upstream_error",
            account=account,
            status=status,
            aws_error_type=kind.split(":", 1)[0] or None,
            request=model_path,
            region=region,
            upstream_message=scrub(message, secrets)[:2000],
        )
    return error


def _body_type(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    return str(data.get("__type", "")) if isinstance(data, dict) else ""


def stream_error(kind: str, message: str, *, account: str, secrets: list[str]) -> UpstreamError:
    """An exception event inside an event stream (``throttlingException``...)."""
    status = _STATUS.get(_key(kind), (502, "api_error"))[0]
    return _error(_key(kind), status, message, account, secrets)


def _error(key: str, status: int, message: str, account: str, secrets: list[str]) -> UpstreamError:
    status, anthropic_type = _STATUS.get(key, (status if status >= 400 else 502, ""))
    text = redact_identifiers(scrub(message, secrets)) or f"upstream returned HTTP {status}"
    return UpstreamError(
        f"Amazon Bedrock (provider account '{account}'): {text}",
        status=status,
        anthropic_type=anthropic_type or None,
        openai_type=_OPENAI_TYPES.get(anthropic_type),
        code=f"bedrock_{key}" if key else None,
    )


def _access_denied(error: UpstreamError, account: str, region: str, path: str, api_key_auth: bool) -> UpstreamError:
    action = iam_action(path, stream=False)
    model = path.split("/model/", 1)[-1].rsplit("/", 1)[0] if "/model/" in path else ""
    if model.startswith("arn:") or not model:  # a profile ARN names the operator's account: not for clients
        needs = f"{action} on this model's inference profile and the foundation models it routes to"
    else:
        needs = f"{action} on arn:aws:bedrock:{region}::foundation-model/{model} (or the inference profile's ARN)"
    if api_key_auth:
        needs += ' and bedrock:CallWithBearerToken on "*" (API-key auth)'
    return UpstreamError(
        f"Amazon Bedrock (provider account '{account}'): access denied. The IAM principal of this account needs "
        f"{needs}, and the model's access must be granted in the Bedrock console for region {region} "
        f"(the gateway's log names the principal). (upstream: {error.message.split(': ', 1)[-1]})",
        status=403,
        anthropic_type="permission_error",
        code="bedrock_access_denied",
        actionable=True,
    )
