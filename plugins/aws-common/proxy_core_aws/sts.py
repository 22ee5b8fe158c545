"""Assumed-role credentials: STS AssumeRole over httpx, cached, refreshed before expiry.

One STS call per account per credential lifetime: concurrent requests that find the
cache stale wait on one lock and share the answer. Refresh starts ``refresh_before_s``
before ``Expiration``; if STS fails then while the old credentials are still valid, they
keep serving (a warning is logged) and the next request tries again. The STS call is
signed with botocore's SigV4 signer (service ``sts``) from the base credentials: the
account's own, or the standard AWS chain (read in a thread: it may touch files or IMDS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import structlog

from proxy_core.errors import UpstreamConnectionError, UpstreamError

from .config import AccessKeyAuth, AssumeRoleAuth, AuthConfig
from .redact import redact_identifiers, scrub
from .signing import sign

if TYPE_CHECKING:  # botocore (~12 MiB) is imported only by accounts that sign
    from botocore.credentials import ReadOnlyCredentials

log = structlog.get_logger("proxy_core.aws")

_NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/"}
STS_TIMEOUT = httpx.Timeout(10.0)


class CredentialSource(Protocol):
    async def get(self) -> ReadOnlyCredentials: ...


def credential_source(account: str, region: str, auth: AuthConfig) -> CredentialSource | None:
    """Where an account's SigV4 credentials come from; None for API-key auth (bearer)."""
    if isinstance(auth, AccessKeyAuth):
        from botocore.credentials import ReadOnlyCredentials

        token = auth.session_token.get_secret_value() if auth.session_token else None
        creds = ReadOnlyCredentials(
            auth.access_key_id.get_secret_value(), auth.secret_access_key.get_secret_value(), token
        )
        return StaticCredentials(creds)
    if isinstance(auth, AssumeRoleAuth):
        return AssumedRoleCredentials(account, region, auth)
    return None


def runtime_secrets(source: CredentialSource | None) -> list[str]:
    """The credentials a source obtained at run time (assumed roles), for scrubbing."""
    return source.secrets() if isinstance(source, AssumedRoleCredentials) else []


class StaticCredentials:
    """Credentials from the account's config: never refreshed."""

    def __init__(self, creds: ReadOnlyCredentials) -> None:
        self._creds = creds

    async def get(self) -> ReadOnlyCredentials:
        return self._creds


class AssumedRoleCredentials:
    def __init__(self, account: str, region: str, settings: AssumeRoleAuth) -> None:
        self.account = account
        self.region = region
        self.settings = settings
        self.endpoint = settings.sts_endpoint or f"https://sts.{region}.amazonaws.com"
        self.clock: Callable[[], float] = time.time  # tests move time forward
        self.transport: httpx.AsyncBaseTransport | None = None
        self.calls = 0  # STS calls made (observability and tests)
        self._creds: ReadOnlyCredentials | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def secrets(self) -> list[str]:
        """The temporary credentials in use (for scrubbing error text)."""
        c = self._creds
        return [c.access_key, c.secret_key, c.token or ""] if c is not None else []

    def _fresh(self) -> bool:
        return self._creds is not None and self.clock() < self._expires_at - self.settings.refresh_before_s

    async def get(self) -> ReadOnlyCredentials:
        if self._fresh():
            assert self._creds is not None
            return self._creds
        async with self._lock:
            if self._fresh():  # another request refreshed while this one waited
                assert self._creds is not None
                return self._creds
            try:
                self._creds, self._expires_at = await self._assume_role()
            except UpstreamError:
                if self._creds is not None and self.clock() < self._expires_at:
                    log.warning("aws.assume_role_refresh_failed", account=self.account, using="cached credentials")
                    return self._creds
                raise
            return self._creds

    async def _base_credentials(self) -> ReadOnlyCredentials:
        from botocore.credentials import ReadOnlyCredentials
        from botocore.session import Session

        s = self.settings
        if s.access_key_id is not None and s.secret_access_key is not None:
            token = s.session_token.get_secret_value() if s.session_token else None
            return ReadOnlyCredentials(
                s.access_key_id.get_secret_value(), s.secret_access_key.get_secret_value(), token
            )

        def chain() -> ReadOnlyCredentials | None:
            found = Session().get_credentials()
            return found.get_frozen_credentials() if found is not None else None

        creds = await asyncio.to_thread(chain)
        if creds is None:
            raise UpstreamError(
                f"provider account '{self.account}' cannot assume its role: no base AWS credentials "
                "(set auth.access_key_id/secret_access_key, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or run with an instance/container role)",
                status=503,
                code="aws_credentials_missing",
            )
        return creds

    async def _assume_role(self) -> tuple[ReadOnlyCredentials, float]:
        s = self.settings
        form = {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": s.role_arn,
            "RoleSessionName": s.session_name,
            "DurationSeconds": str(s.duration_seconds),
        }
        if s.external_id is not None:
            form["ExternalId"] = s.external_id.get_secret_value()
        body = urlencode(form).encode()
        request = httpx.Request(
            "POST",
            self.endpoint.rstrip("/") + "/",
            headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
            content=body,
        )
        sign(request, await self._base_credentials(), "sts", self.region)
        self.calls += 1
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=STS_TIMEOUT, trust_env=False) as client:
                response = await client.send(request)
        except httpx.TransportError as e:
            raise UpstreamConnectionError(
                f"provider account '{self.account}': cannot reach AWS STS to assume its role ({type(e).__name__})"
            ) from None
        if response.status_code != 200:
            raise self._error(response)
        return _parse_credentials(response.content, self.account)

    def _error(self, response: httpx.Response) -> UpstreamError:
        """The client's error names no role ARN, account id or principal; the log does."""
        code, message = _xml_error(response.content)
        message = scrub(message, [])  # access key ids, even in the operator's log
        log.warning(
            "aws.assume_role_failed",
            account=self.account,
            role_arn=self.settings.role_arn,
            status=response.status_code,
            sts_code=code or None,
            sts_message=message or None,
        )
        if response.status_code == 403 or code == "AccessDenied":
            hint = "check that the role's trust policy lets the base credentials' principal call sts:AssumeRole" + (
                " with this external_id" if self.settings.external_id is not None else ""
            )
            return UpstreamError(
                f"provider account '{self.account}' cannot assume its role: STS AccessDenied ({hint}; "
                "the gateway's log names the role)",
                status=403,
                code="aws_assume_role_denied",
            )
        detail = f"{code}: {redact_identifiers(message)}" if code else f"HTTP {response.status_code}"
        return UpstreamError(
            f"provider account '{self.account}' cannot assume its role: STS answered {detail}",
            status=502,
            code="aws_assume_role_failed",
        )


def _xml_error(body: bytes) -> tuple[str, str]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "", ""
    code = root.findtext(".//sts:Error/sts:Code", default="", namespaces=_NS) or root.findtext(".//Code", default="")
    message = root.findtext(".//sts:Error/sts:Message", default="", namespaces=_NS) or root.findtext(
        ".//Message", default=""
    )
    return code or "", message or ""


def _parse_credentials(body: bytes, account: str) -> tuple[ReadOnlyCredentials, float]:
    from botocore.credentials import ReadOnlyCredentials

    try:
        root = ElementTree.fromstring(body)
        node = root.find(".//sts:AssumeRoleResult/sts:Credentials", _NS)
        if node is None:
            raise ValueError("no Credentials element")
        key = node.findtext("sts:AccessKeyId", namespaces=_NS)
        secret = node.findtext("sts:SecretAccessKey", namespaces=_NS)
        token = node.findtext("sts:SessionToken", namespaces=_NS)
        expiration = node.findtext("sts:Expiration", namespaces=_NS)
        if not (key and secret and token and expiration):
            raise ValueError("incomplete Credentials element")
        expires_at = datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
    except (ElementTree.ParseError, ValueError):
        raise UpstreamError(
            f"provider account '{account}': AWS STS returned an AssumeRole answer that cannot be read", status=502
        ) from None
    return ReadOnlyCredentials(key, secret, token), expires_at
