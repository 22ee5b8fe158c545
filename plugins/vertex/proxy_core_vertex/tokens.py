"""Google OAuth access tokens for a Vertex account: cached, refreshed before expiry.

google-auth builds and signs the token request (a service-account JWT assertion, or
whatever the application default credentials need); its synchronous ``refresh`` runs in
a worker thread over a small httpx transport. One refresh per account at a time:
concurrent requests that find the token stale wait on one lock and share the answer. A
refresh that fails while the old token is still valid keeps the old one serving (with a
warning); otherwise the request fails with a 503 that names the account, never a
credential.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

import google.auth
import google.auth.exceptions
import google.auth.transport
import httpx
import structlog
from google.auth.credentials import Credentials
from google.oauth2 import service_account

from proxy_core.errors import UpstreamError

log = structlog.get_logger("proxy_core.vertex")

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
TOKEN_TIMEOUT = httpx.Timeout(10.0)
DEFAULT_LIFETIME_S = 3600.0


class _Response(google.auth.transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(google.auth.transport.Request):
    """google-auth's transport interface over a synchronous httpx client (no ``requests``)."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self.transport = transport

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        try:
            with httpx.Client(transport=self.transport, timeout=timeout or TOKEN_TIMEOUT, trust_env=False) as client:
                return _Response(client.request(method, url, content=body, headers=dict(headers or {})))
        except httpx.HTTPError as e:
            raise google.auth.exceptions.TransportError(type(e).__name__) from None


class StaticToken:
    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    def secrets(self) -> list[str]:
        return []  # the config's token is scrubbed with the settings' secrets


class RefreshingToken:
    """Tokens of google-auth credentials (a service account's, or the ADC's)."""

    def __init__(self, account: str, load: Callable[[], Credentials], refresh_before_s: float) -> None:
        self.account = account
        self.refresh_before_s = refresh_before_s
        self.clock: Callable[[], float] = time.time  # tests move time forward
        self.refreshes = 0  # token requests made (tests and observability)
        self._load = load
        self._credentials: Credentials | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def secrets(self) -> list[str]:
        return [self._token] if self._token else []

    def _fresh(self) -> bool:
        return self._token is not None and self.clock() < self._expires_at - self.refresh_before_s

    async def token(self) -> str:
        if self._fresh():
            return self._token  # type: ignore[return-value]
        async with self._lock:
            if self._fresh():  # refreshed by another request while this one waited
                return self._token  # type: ignore[return-value]
            try:
                self._token, self._expires_at = await asyncio.to_thread(self._refresh)
            except (google.auth.exceptions.GoogleAuthError, ValueError) as e:
                if self._token is not None and self.clock() < self._expires_at:
                    log.warning("vertex.token_refresh_failed", account=self.account, using="cached token")
                    return self._token
                log.warning("vertex.token_failed", account=self.account, error=type(e).__name__, detail=str(e)[:300])
                raise UpstreamError(
                    f"provider account '{self.account}' cannot get a Google access token ({type(e).__name__}); "
                    "the gateway's log has the detail",
                    status=503,
                    code="google_token_unavailable",
                ) from None
            return self._token

    def _refresh(self) -> tuple[str, float]:
        """In a worker thread: one token request."""
        if self._credentials is None:
            self._credentials = self._load()
        self.refreshes += 1
        self._credentials.refresh(HttpxRequest())
        token = self._credentials.token
        if not isinstance(token, str) or not token:
            raise ValueError("the token endpoint returned no access token")
        expiry = self._credentials.expiry
        expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry is not None else self.clock() + DEFAULT_LIFETIME_S
        return token, expires_at


def service_account_loader(path: str) -> Callable[[], Credentials]:
    def load() -> Credentials:
        creds: Credentials = service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
        return creds

    return load


def adc_loader() -> Credentials:
    creds, _project = google.auth.default(scopes=SCOPES)
    return creds
