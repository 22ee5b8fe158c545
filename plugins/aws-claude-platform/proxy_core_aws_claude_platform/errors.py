"""Claude Platform on AWS error answers -> clear :class:`UpstreamError` messages.

Errors come in Anthropic's shape (``{"type": "error", "error": {...}}``) or in the AWS
gateway's (``{"message": ...}`` with an ``x-amzn-errortype`` header). Three setup errors
get a message that says what to do:

* outbound web identity federation disabled -> the ``aws iam`` command to run;
* a region that does not match the workspace -> workspaces are bound to one region;
* access denied -> the IAM action the request needed (the seed's table), plus
  ``CallWithBearerToken`` for API-key accounts.

Credential values of the account are scrubbed from every message and raw body.
"""

from __future__ import annotations

import re

import orjson
from proxy_core_anthropic.errors import error_from_body

from proxy_core.errors import UpstreamError

_FEDERATION = "outbound web identity federation is disabled"
_FILE_ACTIONS = {"POST": "CreateFile", "DELETE": "DeleteFile"}
_BATCH_ACTIONS = {"POST": "CreateBatchInference", "DELETE": "DeleteBatchInference"}


def iam_action(method: str, path: str) -> str:
    """The ``aws-external-anthropic:*`` action a request needs (seed 002's table)."""
    parts = [p for p in path.split("/") if p and p != "v1"]
    head = parts[0] if parts else ""
    if head == "messages" and len(parts) > 1 and parts[1] == "count_tokens":
        return "CountTokens"
    if head == "messages" and len(parts) > 1 and parts[1] == "batches":
        if parts[-1] == "cancel":
            return "CancelBatchInference"
        if method in _BATCH_ACTIONS and (method == "DELETE" or len(parts) == 2):
            return _BATCH_ACTIONS[method]
        return "ListBatchInferences" if len(parts) == 2 else "GetBatchInference"
    if head == "messages":
        return "CreateInference"
    if head == "files":
        return _FILE_ACTIONS.get(method) or ("ListFiles" if len(parts) == 1 else "GetFile")
    if head == "models":
        return "ListModels" if len(parts) == 1 else "GetModel"
    if head == "organizations" and len(parts) > 1 and parts[1] == "workspaces":
        return "ListWorkspaces" if len(parts) == 2 else "GetWorkspace"
    return "CreateInference"


# AWS access key ids (long-term AKIA..., temporary ASIA...), whosever they are.
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return _KEY_ID.sub("[redacted]", text)


def _aws_message(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("message", "Message"):
        if isinstance(data.get(key), str):
            return str(data[key])
    return None


def platform_error(
    status: int,
    body: bytes,
    headers: dict[str, str],
    *,
    account: str,
    workspace_id: str,
    region: str,
    api_key_auth: bool,
    request: tuple[str, str] | None,
    secrets: list[str],
) -> UpstreamError:
    if secrets or _KEY_ID.search(body.decode("utf-8", "replace")):
        body = scrub(body.decode("utf-8", "replace"), secrets).encode()
    base = error_from_body(status, body, {k: v for k, v in headers.items() if k == "retry-after"})
    aws_type = headers.get("x-amzn-errortype", "").split(":", 1)[0]
    text = _aws_message(body) or base.message
    text = scrub(text, secrets)
    low = text.lower()

    def clear(message: str, code: str) -> UpstreamError:
        return UpstreamError(
            message, status=status, anthropic_type=base.anthropic_type, code=code, headers=base.headers
        )

    prefix = f"Claude Platform on AWS (provider account '{account}')"
    if _FEDERATION in low:
        return clear(
            f"{prefix}: outbound web identity federation is disabled for this AWS account. "
            "Run once, as an administrator of that AWS account: "
            "`aws iam enable-outbound-web-identity-federation`, then retry. (upstream: " + text + ")",
            "aws_outbound_federation_disabled",
        )
    if "region" in low and ("workspace" in low or "scoped" in low):
        return clear(
            f"{prefix}: workspace {workspace_id} is not reachable through region {region}. Workspaces are bound "
            "to the one AWS region they were created in: set this account's `region` to the workspace's region. "
            "(upstream: " + text + ")",
            "aws_region_mismatch",
        )
    denied = aws_type.startswith("AccessDenied") or "not authorized" in low or "access denied" in low
    if status == 403 and (denied or base.anthropic_type == "permission_error"):
        method, path = request or ("POST", "/v1/messages")
        action = iam_action(method, path)
        arn = f"arn:aws:aws-external-anthropic:{region}:<account-id>:workspace/{workspace_id}"
        needs = f"aws-external-anthropic:{action} on {arn}"
        if api_key_auth:
            needs += ' and aws-external-anthropic:CallWithBearerToken on "*" (API-key auth)'
        return clear(
            f"{prefix}: access denied for {method} {path}. The IAM principal needs {needs}. (upstream: {text})",
            "aws_access_denied",
        )
    if base.raw is None and text != base.message:
        return clear(f"{prefix}: {text}", "aws_error")
    return base
