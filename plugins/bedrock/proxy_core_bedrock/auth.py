"""The account's ``httpx.Auth`` flow: SigV4 (service ``bedrock``) or a Bedrock API key.

It also notes the request's path in a context variable so an AccessDenied
answer can name the IAM action that request needed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextvars import ContextVar

import httpx
from proxy_core_aws import CredentialSource, sign

from .config import SERVICE

# The path of the last request this task sent through a Bedrock client.
LAST_PATH: ContextVar[str | None] = ContextVar("bedrock_request_path", default=None)


class BedrockAuth(httpx.Auth):
    def __init__(self, region: str, *, credentials: CredentialSource | None = None, api_key: str = "") -> None:
        self.region = region
        self.credentials = credentials
        self._bearer = f"Bearer {api_key}" if api_key else ""

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        LAST_PATH.set(request.url.path)
        request.headers.pop("authorization", None)
        request.headers.pop("x-api-key", None)
        if self.credentials is not None:
            sign(request, await self.credentials.get(), SERVICE, self.region)
        else:
            request.headers["authorization"] = self._bearer
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("Bedrock accounts are served by the gateway's async client only")
