"""Calling a provider account's Files API and relaying what it answers, streamed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from proxy_core import Principal, UpstreamRequest
from proxy_core.asgi import Receive, Scope, Send, encode_headers
from proxy_core.errors import ProxyError, UpstreamError
from proxy_core.gateway import Gateway
from proxy_core.pipeline import MAX_ERROR_BODY
from proxy_core.provider import Provider
from proxy_core.upstream import read_capped, send_upstream

if TYPE_CHECKING:
    from .owners import OwnerStore

FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what a file id may look like (both APIs)
MAX_METADATA_BODY = 16 * 1024 * 1024  # a JSON answer (file object, list page)
# Upstream response headers passed on with a relayed body.
RELAYED_HEADERS = ("content-type", "content-length", "content-encoding", "content-disposition", "retry-after")


@dataclass(slots=True)
class FilesCall:
    """One client request to /files, routed to one provider account."""

    gateway: Gateway
    scope: Scope
    receive: Receive
    send: Send
    headers: dict[str, str]  # the client's, lower-cased
    account: str
    provider: Provider
    max_upload_bytes: int
    principal: Principal
    owners: OwnerStore
    api: str = "openai"  # the client's Files API: "openai", or "anthropic" (the anthropic SDK)
    settings: dict[str, Any] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.gateway.clients[self.account]

    @property
    def file_id(self) -> str:
        return str(self.scope.get("path_params", {}).get("file_id", ""))

    @property
    def query(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")


class BodyError:
    """Holds an error raised while streaming the request body to the upstream.

    httpx and its transports may wrap (or swallow into a connection error) whatever a
    request body iterator raises; the original error is kept here and wins.
    """

    def __init__(self) -> None:
        self.error: BaseException | None = None

    async def guard(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        except BaseException as e:
            self.error = e
            raise


async def open_upstream(call: FilesCall, request: UpstreamRequest, body: BodyError | None = None) -> httpx.Response:
    """Send; the upstream response is open (streamed): the caller closes it."""
    try:
        return await send_upstream(call.client, request, call.account)
    except ProxyError:
        if body is not None and body.error is not None:
            raise body.error from None
        raise
    except BaseException:
        if body is not None and body.error is not None and not isinstance(body.error, GeneratorExit):
            raise body.error from None
        raise


async def read_json(call: FilesCall, response: httpx.Response, parse_error: Any) -> Any:
    """The whole (small) JSON answer, or the upstream's error as an ``UpstreamError``."""
    try:
        if response.status_code >= 400:
            raise parse_error(response.status_code, await read_capped(response, MAX_ERROR_BODY), response.headers)
        raw = await read_capped(response, MAX_METADATA_BODY)
    finally:
        await response.aclose()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError("the upstream returned a body that is not JSON", status=502) from None


async def relay(call: FilesCall, response: httpx.Response) -> None:
    """Stream the upstream's answer (status, content headers, body) to the client as it comes."""
    try:
        headers = {k: v for k in RELAYED_HEADERS if (v := response.headers.get(k)) is not None}
        headers.update(call.response_headers)
        await call.send(
            {"type": "http.response.start", "status": response.status_code, "headers": encode_headers(headers)}
        )
        # A failure past this point cannot become an error response: the endpoint lets the
        # server cut the connection, and the client sees a short body.
        async for chunk in response.aiter_raw():
            if chunk:
                await call.send({"type": "http.response.body", "body": chunk, "more_body": True})
        await call.send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await response.aclose()
