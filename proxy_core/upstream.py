"""The hot path's upstream HTTP: an account's pooled aiohttp session called directly.

Accounts without an ``httpx.Auth`` flow (and not instrumented by a plugin) skip httpx's
Request/Response objects, byte-stream wrappers and decoders: the pipeline sends through
:class:`DirectClient` and reads a :class:`DirectResponse`, which offers the part of
``httpx.Response`` the pipeline and providers use (``status_code``, ``headers``,
``aiter_bytes``, ``aclose``) and raises httpx's transport errors, so error handling is
the same on both paths. The session is the one the account's httpx client uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions
from yarl import URL

from .errors import GatewayTimeoutError, UpstreamConnectionError

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
        except aiohttp.ClientError as e:
            raise _send_error(e, account) from None
        except TimeoutError as e:
            raise GatewayTimeoutError(f"provider account '{account}' timed out ({_timeout_kind(e)})") from None
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
def _url(base: str, path: str) -> URL:
    return URL(str(httpx.URL(base).join(path)))


@lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


def _send_error(e: aiohttp.ClientError, account: str) -> Exception:
    if isinstance(e, TimeoutError):
        return GatewayTimeoutError(f"provider account '{account}' timed out ({_timeout_kind(e)})")
    return UpstreamConnectionError(f"cannot reach provider account '{account}' ({type(e).__name__})")


def _timeout_kind(e: Any) -> str:
    if isinstance(e, aiohttp.ConnectionTimeoutError):
        return "connect"
    if isinstance(e, aiohttp.SocketTimeoutError):
        return "waiting for data"
    return "timeout"
