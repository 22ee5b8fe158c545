"""The account's ``httpx.Auth`` flow: workspace header, then SigV4 or the API key.

It runs for every request of the account's pooled client (messages, count_tokens,
chat, and whatever other plugins such as ``files`` send through that client), so the
workspace header and the credentials are applied in one place. It also notes the
method and path of the request in a context variable, so an error answer can name the
IAM action that request needs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextvars import ContextVar

import httpx
from proxy_core_aws import CredentialSource, sign

from .config import SERVICE, WORKSPACE_HEADER

# (method, path) of the last request this task sent through a Claude Platform client.
LAST_REQUEST: ContextVar[tuple[str, str] | None] = ContextVar("aws_claude_platform_request", default=None)


class PlatformAuth(httpx.Auth):
    """``anthropic-workspace-id`` on every request, then a SigV4 signature or a bearer key."""

    def __init__(
        self, workspace_id: str, region: str, *, credentials: CredentialSource | None = None, api_key: str = ""
    ) -> None:
        self.workspace_id = workspace_id
        self.region = region
        self.credentials = credentials
        self._bearer = f"Bearer {api_key}" if api_key else ""

    def _prepare(self, request: httpx.Request) -> None:
        LAST_REQUEST.set((request.method, request.url.path))
        request.headers[WORKSPACE_HEADER] = self.workspace_id
        # Never a first-party key header: SigV4 or the bearer key are the only credentials.
        request.headers.pop("x-api-key", None)
        request.headers.pop("authorization", None)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._prepare(request)
        if self.credentials is not None:
            sign(request, await self.credentials.get(), SERVICE, self.region)  # a stream stays a stream
        else:
            request.headers["authorization"] = self._bearer
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("Claude Platform on AWS accounts are served by the gateway's async client only")
