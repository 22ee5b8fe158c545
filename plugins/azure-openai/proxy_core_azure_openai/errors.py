"""Azure OpenAI's error answers, made clear for the client.

* 400 ``content_filter`` (the prompt was filtered): the client gets a 400 in OpenAI's
  shape with code ``content_filter``, a message naming the categories that were
  filtered, and Azure's ``innererror`` (``ResponsibleAIPolicyViolation`` and its
  ``content_filter_result``) kept in the error object.
* 404 ``DeploymentNotFound``: the account's config names a deployment the resource does
  not have: not the client's fault, so a 502 (a fallback point) that says where to look.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy_core.errors import UpstreamError


class ContentFilterError(UpstreamError):
    """A prompt Azure's content filter refused; ``innererror`` goes to the client as it came."""

    def __init__(self, message: str, innererror: dict[str, Any], param: str | None) -> None:
        super().__init__(message, status=400, openai_type="invalid_request_error", code="content_filter", param=param)
        self.innererror = innererror

    def openai_body(self) -> dict[str, Any]:
        body = super().openai_body()
        body["error"]["innererror"] = self.innererror
        return body


def azure_error(err: UpstreamError, raw: bytes, account: str) -> UpstreamError:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return err
    detail = data.get("error") if isinstance(data, dict) else None
    if not isinstance(detail, dict):
        return err
    if err.status == 400 and detail.get("code") == "content_filter":
        inner = detail.get("innererror")
        inner = inner if isinstance(inner, dict) else {}
        filtered = _filtered_categories(inner.get("content_filter_result"))
        message = "Azure OpenAI's content filter rejected the prompt"
        message += f" ({', '.join(filtered)})" if filtered else ""
        message += f": {err.message}"
        return ContentFilterError(message, inner, err.param or "messages")
    if err.status == 404 and detail.get("code") == "DeploymentNotFound":
        return UpstreamError(
            f"provider account '{account}': the Azure resource has no such deployment (DeploymentNotFound); "
            f"the gateway's operator must check the deployment names under providers.{account}.models",
            status=502,
            openai_type="upstream_error",
            code="deployment_not_found",
        )
    return err


def _filtered_categories(result: Any) -> list[str]:
    """``hate: high``, ``jailbreak`` ... for every category marked ``filtered: true``."""
    if not isinstance(result, dict):
        return []
    out = []
    for category, verdict in result.items():
        if isinstance(verdict, dict) and verdict.get("filtered") is True:
            severity = verdict.get("severity")
            out.append(f"{category}: {severity}" if isinstance(severity, str) else category)
    return out
