"""The account's ``httpx.Auth`` flow: ``Authorization: Bearer <access token>`` on every
request of its pooled client (Gemini and Claude models alike), and no other credential."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Protocol

import httpx


class TokenSource(Protocol):
    async def token(self) -> str: ...

    def secrets(self) -> list[str]: ...


class VertexAuth(httpx.Auth):
    def __init__(self, source: TokenSource) -> None:
        self.source = source

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        for name in ("x-api-key", "x-goog-api-key"):
            request.headers.pop(name, None)
        request.headers["authorization"] = "Bearer " + await self.source.token()
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("Vertex AI accounts are served by the gateway's async client only")
