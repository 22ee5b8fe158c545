"""The ``aws-claude-platform`` provider type: Anthropic's Messages API on AWS.

The wire format is Anthropic's, so this subclasses :class:`AnthropicProvider` and keeps
its translation (chat <-> messages, streams, passthrough, errors) as it is. What differs:
the regional base URL, the ``anthropic-workspace-id`` header and the credentials, which
are all applied by :class:`.auth.PlatformAuth` on the account's pooled client; bare
first-party model ids; and error messages for the platform's setup errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from proxy_core_anthropic import AnthropicProvider
from proxy_core_aws import CredentialSource, credential_source
from proxy_core_aws.sts import runtime_secrets

from proxy_core import Attempt, RequestContext, UpstreamRequest
from proxy_core.errors import InvalidRequestError, UpstreamError

from .auth import LAST_REQUEST, PlatformAuth
from .config import ApiKeyAuth, AwsClaudePlatformConfig
from .errors import platform_error

BEDROCK_PREFIX = "anthropic."


def bedrock_id_error(model: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"'{model}' is an Amazon Bedrock model id. Claude Platform on AWS is Anthropic's own API and takes the "
        "bare first-party ids (for example 'claude-sonnet-4-6', not 'anthropic.claude-sonnet-4-5-20250929-v1:0'): "
        "list the bare id under this account's models, or use a Bedrock account for Bedrock ids.",
        param="model",
        code="bedrock_model_id",
    )


class AwsClaudePlatformProvider(AnthropicProvider):
    type_name = "aws-claude-platform"
    settings_model: ClassVar[type[AwsClaudePlatformConfig]] = AwsClaudePlatformConfig
    default_base_url = "https://aws-external-anthropic.{region}.api.aws"

    settings: AwsClaudePlatformConfig

    def __init__(self, name: str, settings: Any, missing_env: dict[str, str] | None = None) -> None:
        super().__init__(name, settings, missing_env)
        if not settings.base_url:
            self.base_url = self.default_base_url.format(region=settings.region)
        self._secrets = settings.secrets()
        self.credentials: CredentialSource | None = credential_source(name, settings.region, settings.auth)

    @property
    def api_key(self) -> str:
        auth = self.settings.auth
        return auth.api_key.get_secret_value() if isinstance(auth, ApiKeyAuth) else ""

    def http_auth(self) -> httpx.Auth:
        s = self.settings
        return PlatformAuth(s.workspace_id, s.region, credentials=self.credentials, api_key=self.api_key)

    def auth_headers(self) -> dict[str, str]:
        return {}  # PlatformAuth signs or adds the bearer key on the client

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        if attempt.target.model.startswith(BEDROCK_PREFIX):
            raise bedrock_id_error(attempt.target.model)
        return super().build_request(ctx, attempt)

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        s = self.settings
        return platform_error(
            status,
            body,
            dict(headers),
            account=self.name,
            workspace_id=s.workspace_id,
            region=s.region,
            api_key_auth=isinstance(s.auth, ApiKeyAuth),
            request=LAST_REQUEST.get(),
            secrets=self._secrets + runtime_secrets(self.credentials),
        )
