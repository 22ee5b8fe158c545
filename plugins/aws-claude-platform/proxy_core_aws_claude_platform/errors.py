"""Claude Platform on AWS error answers -> clear :class:`UpstreamError` messages.

Errors come in Anthropic's shape (``{"type": "error", "error": {...}}``) or in the AWS
gateway's (``{"message": ...}`` with an ``x-amzn-errortype`` header). Three setup errors
get a message that says what to do:

* outbound web identity federation disabled -> the ``aws iam`` command to run;
* a region that does not match the workspace -> workspaces are bound to one region;
* access denied -> the IAM action the request needed (the seed's table), plus
  ``CallWithBearerToken`` for API-key accounts.

Credential values of the account are scrubbed from every message and raw body, and so
are the identifiers of the operator's AWS estate (account ids, ARNs of principals, roles
and resources, workspace ids): clients get placeholders and the action to take, the
operator gets the detail in a ``aws.upstream_error`` warning (credentials still scrubbed).
"""

from __future__ import annotations

import structlog
from proxy_core_anthropic.errors import error_from_body
from proxy_core_aws.redact import KEY_ID, aws_message, redact_body, redact_identifiers, scrub

from proxy_core.errors import UpstreamError

log = structlog.get_logger("proxy_core.aws_claude_platform")

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
    if secrets or KEY_ID.search(body.decode("utf-8", "replace")):
        body = scrub(body.decode("utf-8", "replace"), secrets).encode()
    detail = scrub(aws_message(body) or "", secrets)  # for the operator's log: identifiers kept
    redacted = redact_body(body)
    base = error_from_body(status, redacted, {k: v for k, v in headers.items() if k == "retry-after"})
    aws_type = headers.get("x-amzn-errortype", "").split(":", 1)[0]
    text = redact_identifiers(scrub(aws_message(redacted) or base.message, secrets))
    low = text.lower()
    method, path = request or ("POST", "/v1/messages")

    def clear(message: str, code: str, actionable: bool = True) -> UpstreamError:
        # actionable: the message says what to do and holds no identifiers, so the core
        # keeps it when it turns a 401/403 into a 502.
        return UpstreamError(
            message,
            status=status,
            anthropic_type=base.anthropic_type,
            code=code,
            headers=base.headers,
            actionable=actionable,
        )

    def logged(error: UpstreamError) -> UpstreamError:
        if error is base and redacted == body:
            return error  # an ordinary upstream error with nothing withheld from the client
        log.warning(
            "aws.upstream_error",
            account=account,
            status=status,
            code=error.code,
            aws_error_type=aws_type or None,
            request=f"{method} {path}",
            region=region,
            workspace_id=workspace_id,
            workspace_arn=f"arn:aws:aws-external-anthropic:{region}:<account-id>:workspace/{workspace_id}",
            upstream_message=detail or scrub(body.decode("utf-8", "replace"), secrets)[:2000],
        )
        return error

    prefix = f"Claude Platform on AWS (provider account '{account}')"
    if _FEDERATION in low:
        return logged(
            clear(
                f"{prefix}: outbound web identity federation is disabled for this AWS account. "
                "Run once, as an administrator of that AWS account: "
                "`aws iam enable-outbound-web-identity-federation`, then retry. (upstream: " + text + ")",
                "aws_outbound_federation_disabled",
            )
        )
    if "region" in low and ("workspace" in low or "scoped" in low):
        return logged(
            clear(
                f"{prefix}: this account's workspace is not reachable through region {region}. Workspaces are "
                "bound to the one AWS region they were created in: set this account's `region` to the workspace's "
                "region (the gateway's log names the workspace). (upstream: " + text + ")",
                "aws_region_mismatch",
            )
        )
    denied = aws_type.startswith("AccessDenied") or "not authorized" in low or "access denied" in low
    if status == 403 and (denied or base.anthropic_type == "permission_error"):
        action = iam_action(method, path)
        arn = f"arn:aws:aws-external-anthropic:{region}:<account-id>:workspace/<workspace-id>"
        needs = f"aws-external-anthropic:{action} on {arn}"
        if api_key_auth:
            needs += ' and aws-external-anthropic:CallWithBearerToken on "*" (API-key auth)'
        return logged(
            clear(
                f"{prefix}: access denied for {method} {path}. The IAM principal of this account needs {needs} "
                f"(the gateway's log names the principal and the workspace). (upstream: {text})",
                "aws_access_denied",
            )
        )
    if base.raw is None and text != base.message:
        return logged(clear(f"{prefix}: {text}", "aws_error", actionable=False))
    return logged(base)
