"""Pieces both batch APIs use: the client's JSON body, an upstream JSON exchange, and the
caller's page of a batch list (upstream pages filtered to the caller's batches with the
``files`` plugin's scanner)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from proxy_core_files.access import Page, page_ids, scan
from proxy_core_files.passthrough import ListStyle
from proxy_core_files.upstream import FilesCall, open_upstream, read_json

from proxy_core import RequestContext, UpstreamRequest
from proxy_core.asgi import parse_json_object, read_body, send_json
from proxy_core.errors import InvalidRequestError, UpstreamError

ParseError = Callable[[int, bytes, Mapping[str, str]], UpstreamError]
Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


async def client_json(call: FilesCall, ctx: RequestContext) -> dict[str, Any]:
    server = call.gateway.config.server
    raw = await read_body(call.receive, call.headers, server.max_body_bytes)
    body = parse_json_object(raw, server.max_json_values)
    ctx.raw_body = raw
    return body


async def exchange(
    call: FilesCall, method: str, path: str, headers: dict[str, str], parse_error: ParseError, body: Any = None
) -> Any:
    """The upstream's JSON answer; its error answer raised as an ``UpstreamError``."""
    content = orjson.dumps(body) if body is not None else None
    if content is not None:
        headers = {**headers, "content-type": "application/json"}
    response = await open_upstream(call, UpstreamRequest(method, path, headers, content=content))
    return await read_json(call, response, parse_error)


def batch_id_of(data: Any) -> str:
    batch_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(batch_id, str) or not batch_id:
        raise UpstreamError("the upstream returned an unexpected batch object", status=502)
    return batch_id


async def send_page(
    call: FilesCall,
    path: str,
    headers: dict[str, str],
    parse_error: ParseError,
    style: ListStyle,
    rewrite: Rewrite,
) -> None:
    """The caller's batches (an admin's: all), in the API's list shape."""
    query = parse_qsl(call.query, keep_blank_values=True)
    given = dict(query)
    kept = [(k, v) for k, v in query if k not in {style.after, style.before, "limit"}]
    raw_limit = given.get("limit", str(style.default_limit))
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise InvalidRequestError("limit must be a positive integer", param="limit")
    want = min(int(raw_limit), style.max_limit)
    backward = style.before is not None and bool(given.get(style.before))
    cursor_name = style.before if backward and style.before else style.after

    async def fetch(cursor: str | None) -> Page:
        params = [*kept, ("limit", str(style.max_limit))] + ([(cursor_name, cursor)] if cursor else [])
        page = await exchange(call, "GET", path + "?" + urlencode(params), headers, parse_error)
        items = page.get("data") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("the upstream returned an unexpected batch list", status=502)
        return Page(items, page.get("has_more") is True)

    page = await scan(call, fetch, want, given.get(cursor_name) or None, backward=backward)
    first, last = page_ids(page)
    body: dict[str, Any] = {"object": "list"} if style.list_object else {}
    body.update(
        {"data": [rewrite(i) for i in page.items], "has_more": page.has_more, "first_id": first, "last_id": last}
    )
    await send_json(call.send, 200, body, call.response_headers)
