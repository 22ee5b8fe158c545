"""Upstream HTTP: sending a provider request and reading its answer, with errors named
for the client (which account, timed out or unreachable, and why).

Accounts with an ``httpx.Auth`` flow (or instrumented by a plugin) send through their
httpx client (:func:`send_upstream`). The others skip httpx's Request/Response objects,
byte-stream wrappers and decoders: the pipeline sends through :class:`DirectClient` and
reads a :class:`DirectResponse`, which offers the part of ``httpx.Response`` the
pipeline and providers use (``status_code``, ``headers``, ``aiter_bytes``, ``aclose``)
and raises httpx's transport errors, so error handling is the same on both paths. The
aiohttp session is the one the account's httpx client uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions
from yarl import URL

from .errors import GatewayTimeoutError, UpstreamConnectionError, UpstreamError

if TYPE_CHECKING:
    from .context import Timeouts, UpstreamRequest


class DirectResponse:
    """An upstream answer read straight from aiohttp (body streamed: read or close it)."""

    __slots__ = ("_response", "headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        with map_aiohttp_exceptions():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aread(self) -> bytes:
        with map_aiohttp_exceptions():
            return await self._response.read()

    async def aclose(self) -> None:
        # Returns the connection to the pool when the body was read to its end, else closes it.
        self._response.release()


class DirectClient:
    """Sends an account's upstream requests on its aiohttp session."""

    def __init__(self, transport: AiohttpTransport, base_url: str, timeout: httpx.Timeout) -> None:
        self._transport = transport
        self._session: aiohttp.ClientSession | None = None
        self.base_url = base_url
        self.timeout = timeout

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            transport = self._transport
            if not isinstance(transport.client, aiohttp.ClientSession):
                transport.client = transport.get_client()  # shared with the account's httpx client
            self._session = transport.client
        return self._session

    async def send(self, request: UpstreamRequest, account: str, limits: Timeouts | None) -> DirectResponse:
        content, headers = request_body(request)
        t = self.timeout
        connect, read = t.connect, t.read
        if limits is not None:
            connect = limits.connect if limits.connect is not None else connect
            read = limits.idle if limits.idle is not None else read  # the longest silence between reads
        try:
            response = await self.session().request(
                request.method,
                _url(self.base_url, request.url),
                headers=headers,
                data=content,
                allow_redirects=False,
                compress=False,
                timeout=_timeout(connect, read, t.pool),
            )
        except (aiohttp.ClientError, TimeoutError) as e:
            if isinstance(e, TimeoutError):
                raise _timed_out(account, _aiohttp_timeout_kind(e)) from None
            raise _unreachable(account, type(e).__name__) from None
        return DirectResponse(response)


# What the pipeline and ``Provider.stream_bytes`` read an upstream answer from.
UpstreamResponse = httpx.Response | DirectResponse


def request_body(request: UpstreamRequest) -> tuple[bytes | None, dict[str, str]]:
    """The bytes to send (the JSON body serialised once) and the headers to send them with."""
    headers = request.headers
    content = request.content
    if content is None and request.json is not None:
        content = orjson.dumps(request.json)
        headers.setdefault("content-type", "application/json")
    return content, headers


@lru_cache(maxsize=1024)
def _join_url(base: str, path: str) -> httpx.URL:
    return httpx.URL(base).join(path)


@lru_cache(maxsize=1024)
def _url(base: str, path: str) -> URL:
    return URL(str(_join_url(base, path)))


@lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


def _aiohttp_timeout_kind(e: TimeoutError) -> str:
    if isinstance(e, aiohttp.ConnectionTimeoutError):
        return "connect"
    if isinstance(e, aiohttp.SocketTimeoutError):
        return "waiting for data"
    return "timeout"


async def send_upstream(
    client: httpx.AsyncClient, request: UpstreamRequest, account: str, limits: Timeouts | None = None
) -> httpx.Response:
    """Send one upstream request through the account's httpx client (auth flows,
    instrumentation); the response is streamed (read or close it)."""
    content, headers = request_body(request)
    # Not client.build_request: merging base URL, cookies and default headers per request
    # costs more than the rest of the pipeline. The URL join is cached; timeouts are explicit.
    url = _join_url(str(client.base_url), request.url)
    timeout = client.timeout.as_dict()
    if limits is not None:
        if limits.connect is not None:
            timeout["connect"] = limits.connect
        if limits.idle is not None:
            timeout["read"] = limits.idle  # a read timeout is the longest silence between reads
    built = httpx.Request(request.method, url, headers=headers, content=content, extensions={"timeout": timeout})
    try:
        return await client.send(built, stream=True)
    except httpx.TransportError as e:
        if is_timeout(e):
            raise _timed_out(account, _httpx_timeout_kind(e)) from None
        raise _unreachable(account, cause_name(e)) from None


def _timed_out(account: str, kind: str) -> GatewayTimeoutError:
    return GatewayTimeoutError(f"provider account '{account}' timed out ({kind})")


def _unreachable(account: str, cause: str) -> UpstreamConnectionError:
    return UpstreamConnectionError(f"cannot reach provider account '{account}' ({cause})")


def is_timeout(e: httpx.TransportError) -> bool:
    # httpx-aiohttp reports every aiohttp connection error as ConnectTimeout: trust the cause.
    cause = e.__cause__
    if cause is not None:
        return isinstance(cause, TimeoutError)
    return isinstance(e, httpx.TimeoutException)


def cause_name(e: httpx.TransportError) -> str:
    return type(e.__cause__ or e).__name__


def _httpx_timeout_kind(e: httpx.TransportError) -> str:
    kinds: dict[type[httpx.TransportError], str] = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "waiting for data",
        httpx.WriteTimeout: "sending",
        httpx.PoolTimeout: "waiting for a connection",
    }
    return kinds.get(type(e), "timeout")


async def read_capped(response: UpstreamResponse, limit: int) -> bytes:
    """A whole (non-streamed) answer, refused past ``limit`` bytes."""
    chunks = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise UpstreamError(f"the upstream response exceeds {limit} bytes", status=502)
            chunks.append(chunk)
    except httpx.TransportError as e:
        if is_timeout(e):
            raise GatewayTimeoutError("the upstream stopped sending its response") from None
        raise UpstreamConnectionError(f"the upstream connection failed mid-response ({cause_name(e)})") from None
    return b"".join(chunks)
