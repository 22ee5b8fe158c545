"""A Files API passed through to an account that speaks it: OpenAI's to an OpenAI account,
Anthropic's (the anthropic SDK's ``client.beta.files``) to an Anthropic-wire account.

Method, path, query and body go up as the client sent them, with the account's own
credentials; answers come back as the upstream sent them (errors included, already in
the client's shape), streamed. Ownership is applied on the way: an upload's answer is
read to record its owner, a delete forgets it, and a key that is not an admin gets a
list of its own files (upstream pages scanned and filtered, see ``access.scan``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import orjson
import structlog

from proxy_core import UpstreamRequest
from proxy_core.asgi import send_bytes
from proxy_core.errors import InvalidRequestError, ProxyError, UpstreamError
from proxy_core.upstream import read_capped

from .access import Page, page_ids, record_owner, scan, sees_all
from .multipart import check_length, raw_body
from .upstream import MAX_METADATA_BODY, BodyError, FilesCall, open_upstream, relay

log = structlog.get_logger("proxy_core.files")

_SUFFIX = {"create": "", "list": "", "retrieve": "/{id}", "delete": "/{id}", "content": "/{id}/content"}
_METHOD = {"create": "POST", "list": "GET", "retrieve": "GET", "delete": "DELETE", "content": "GET"}


@dataclass(frozen=True, slots=True)
class ListStyle:
    """How an API pages its file list."""

    after: str  # the cursor parameter
    before: str | None  # a backward cursor, when the API has one
    default_limit: int
    max_limit: int
    list_object: bool  # the page carries ``"object": "list"``


OPENAI_LIST = ListStyle("after", None, 10000, 10000, True)
ANTHROPIC_LIST = ListStyle("after_id", "before_id", 20, 1000, False)


async def passthrough(call: FilesCall, action: str, headers: dict[str, str], base: str, style: ListStyle) -> None:
    path = base + _SUFFIX[action].replace("{id}", call.file_id)
    if action == "list" and not sees_all(call):
        await _owned_list(call, headers, path, style)
        return
    if call.query:
        path += "?" + call.query
    if action == "create":
        await _create(call, headers, path, base)
        return
    response = await open_upstream(call, UpstreamRequest(_METHOD[action], path, headers))
    if action == "delete" and response.status_code < 300:
        await call.owners.forget(call.account, call.file_id)
    await relay(call, response)


async def _create(call: FilesCall, headers: dict[str, str], path: str, base: str) -> None:
    check_length(call.headers, call.max_upload_bytes)
    headers = {**headers, "content-type": call.headers.get("content-type", "application/octet-stream")}
    guard = BodyError()
    content = guard.guard(raw_body(call.receive, call.max_upload_bytes))
    request = UpstreamRequest("POST", path, headers, content=content)  # type: ignore[arg-type]
    response = await open_upstream(call, request, guard)
    if response.status_code >= 300:
        await relay(call, response)
        return
    try:
        raw = await _read(response)
    finally:
        await response.aclose()
    file_id = _id_of(raw)
    try:
        await record_owner(call, file_id)
    except ProxyError:  # an upload nobody owns would be visible to admins only: take it back
        await forget_upload(call, f"{base}/{file_id}", headers)
        raise
    ctype = response.headers.get("content-type", "application/json")
    await send_bytes(call.send, response.status_code, raw, {"content-type": ctype, **call.response_headers})


async def _read(response: httpx.Response) -> bytes:
    data: bytes = await read_capped(response, MAX_METADATA_BODY)
    return data


async def forget_upload(call: FilesCall, path: str, headers: dict[str, str]) -> None:
    """Delete an upload the gateway cannot keep (best effort)."""
    try:
        response = await open_upstream(call, UpstreamRequest("DELETE", path, headers))
        await response.aclose()
    except ProxyError as e:
        log.warning("files.cleanup_failed", account=call.account, path=path, error=e.message)


def _id_of(raw: bytes) -> str:
    try:
        meta = orjson.loads(raw)
    except orjson.JSONDecodeError:
        meta = None
    file_id = meta.get("id") if isinstance(meta, dict) else None
    if not isinstance(file_id, str) or not file_id:
        raise UpstreamError("the upstream returned an unexpected file object", status=502)
    return file_id


def _limit(raw: str, style: ListStyle) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidRequestError("limit must be a positive integer", param="limit")
    return min(int(raw), style.max_limit)


async def _owned_list(call: FilesCall, headers: dict[str, str], path: str, style: ListStyle) -> None:
    """The caller's files: upstream pages of the largest size, filtered."""
    query = parse_qsl(call.query, keep_blank_values=True)
    cursors = {style.after, style.before, "limit"}
    kept = [(k, v) for k, v in query if k not in cursors]
    given = dict(query)
    want = _limit(given["limit"], style) if "limit" in given else style.default_limit
    backward = style.before is not None and bool(given.get(style.before))
    cursor_name = style.before if backward and style.before else style.after
    start = given.get(cursor_name) or None

    async def fetch(cursor: str | None) -> Page:
        params = [*kept, ("limit", str(style.max_limit))] + ([(cursor_name, cursor)] if cursor else [])
        response = await open_upstream(call, UpstreamRequest("GET", path + "?" + urlencode(params), headers))
        if response.status_code >= 300:
            await relay(call, response)  # the upstream's own error, as it sent it
            raise _Relayed()
        try:
            page = orjson.loads(await _read(response))
        except orjson.JSONDecodeError:
            raise UpstreamError("the upstream returned a body that is not JSON", status=502) from None
        finally:
            await response.aclose()
        items = page.get("data") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("the upstream returned an unexpected file list", status=502)
        return Page(items, page.get("has_more") is True)

    try:
        page = await scan(call, fetch, want, start, backward=backward)
    except _Relayed:
        return
    first, last = page_ids(page)
    body: dict[str, Any] = {"object": "list"} if style.list_object else {}
    body.update({"data": page.items, "has_more": page.has_more, "first_id": first, "last_id": last})
    await send_bytes(call.send, 200, orjson.dumps(body), {"content-type": "application/json", **call.response_headers})


class _Relayed(Exception):
    """The upstream's error answer has been relayed to the client: nothing more to send."""
