"""OpenAI accounts: the Files API passed through (method, path, query, body, answer), streamed.

Only the content type and the account's own credentials go up; the answer (errors
included, already in OpenAI's shape) comes back as the upstream sent it.
"""

from __future__ import annotations

from proxy_core import UpstreamRequest

from .multipart import check_length, raw_body
from .upstream import BodyError, FilesCall, open_upstream, relay

_SUFFIX = {"create": "", "list": "", "retrieve": "/{id}", "delete": "/{id}", "content": "/{id}/content"}
_METHOD = {"create": "POST", "list": "GET", "retrieve": "GET", "delete": "DELETE", "content": "GET"}


async def passthrough(call: FilesCall, action: str) -> None:
    provider = call.provider
    headers = {"authorization": "Bearer " + provider.api_key, **provider.settings.headers}
    path = "files" + _SUFFIX[action].replace("{id}", call.file_id)
    if call.query:
        path += "?" + call.query
    guard = None
    content = None
    if action == "create":
        check_length(call.headers, call.max_upload_bytes)
        headers["content-type"] = call.headers.get("content-type", "application/octet-stream")
        guard = BodyError()
        content = guard.guard(raw_body(call.receive, call.max_upload_bytes))
    request = UpstreamRequest(_METHOD[action], path, headers, content=content)  # type: ignore[arg-type]
    await relay(call, await open_upstream(call, request, guard))
