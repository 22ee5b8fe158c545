"""The ``vertex`` provider type: Gemini and Claude models of one Google Vertex AI account.

One account, one pooled client, one token source; each model is served by a delegate
of its wire format (``Provider.for_model``), so feature plugins see the right
capabilities per model:

* Gemini models (publisher ``google``): the gemini plugin's translation, at
  ``v1/projects/{project}/locations/{region}/publishers/google/models/{model}:generateContent``
  (``:streamGenerateContent?alt=sse``).
* Claude models (publisher ``anthropic``, ids such as ``claude-sonnet-4-5@20250929``):
  the anthropic plugin's translation and passthrough, at ``...publishers/anthropic/models/
  {model}:rawPredict`` (``:streamRawPredict``), with ``anthropic_version:
  vertex-2023-10-16`` in the body and no ``model`` field; ``count_tokens`` at
  ``.../models/count-tokens:rawPredict``.

A model is Claude when its id starts with ``claude-`` or its config entry says
``publisher: anthropic``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import orjson
from proxy_core_anthropic import AnthropicProvider
from proxy_core_anthropic.errors import error_from_body as anthropic_error
from proxy_core_gemini import GeminiProvider, UriPolicy
from proxy_core_gemini.errors import error_from_body as google_error

from proxy_core import Attempt, Provider, RequestContext, UpstreamRequest, models
from proxy_core.errors import UpstreamError
from proxy_core.provider import StreamTranslator

from .auth import TokenSource, VertexAuth
from .config import AccessTokenAuth, ServiceAccountAuth, VertexConfig

ANTHROPIC_VERSION = "vertex-2023-10-16"
VERTEX_URIS = UriPolicy(("gs://", "https://"), "Vertex AI reads gs:// and public https:// URLs")


def base_url_for(region: str) -> str:
    if region == "global":
        return "https://aiplatform.googleapis.com"
    if region in ("us", "eu"):  # multi-region endpoints
        return f"https://aiplatform.{region}.rep.googleapis.com"
    return f"https://{region}-aiplatform.googleapis.com"


class _Delegate:
    """What both delegates share: the account's location, token and secrets."""

    account: VertexProvider

    def location(self) -> str:
        s = self.account.settings
        return f"v1/projects/{s.project}/locations/{s.region}/publishers"

    def auth_headers(self) -> dict[str, str]:
        return {}  # VertexAuth adds the bearer token on the account's client

    def secrets(self) -> list[str]:
        return self.account.secrets()


class VertexGemini(_Delegate, GeminiProvider):
    type_name = "vertex"
    uri_policy: ClassVar[UriPolicy] = VERTEX_URIS

    def __init__(self, account: VertexProvider) -> None:
        GeminiProvider.__init__(self, account.name, account.settings, account.missing_env)
        self.account = account
        self.base_url = account.base_url

    def model_path(self, model: str, stream: bool) -> str:
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{self.location()}/google/models/{quote(model, safe='@.-_')}:{method}"


class VertexClaude(_Delegate, AnthropicProvider):
    type_name = "vertex"

    def __init__(self, account: VertexProvider) -> None:
        AnthropicProvider.__init__(self, account.name, account.settings, account.missing_env)
        self.account = account
        self.base_url = account.base_url

    def path(self, ctx: RequestContext, attempt: Attempt) -> str:
        if ctx.operation.name == "count_tokens":
            return f"{self.location()}/anthropic/models/count-tokens:rawPredict"
        method = "streamRawPredict" if ctx.stream else "rawPredict"
        return f"{self.location()}/anthropic/models/{quote(attempt.target.model, safe='@.-_')}:{method}"

    def upstream_headers(self, ctx: RequestContext, attempt: Attempt) -> dict[str, str]:
        headers = super().upstream_headers(ctx, attempt)
        del headers["anthropic-version"]  # Vertex takes it in the body
        return headers

    def build_body(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        body = super().build_body(ctx, attempt)
        if ctx.operation.name != "count_tokens":
            body.pop("model", None)  # the model is in the URL
        version = ctx.headers.get("anthropic-version")
        body["anthropic_version"] = version if version and version.startswith("vertex-") else ANTHROPIC_VERSION
        return body

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        """Claude's own errors come in Anthropic's shape; Vertex's (quota, permissions,
        unknown model) in Google's."""
        retry_after = headers.get("retry-after")
        kept = {"retry-after": retry_after} if retry_after else {}
        if _anthropic_shaped(body):
            return anthropic_error(status, body, kept)
        return google_error(status, body, kept, self.name)


def _anthropic_shaped(body: bytes) -> bool:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("type") == "error"


class VertexProvider(Provider):
    type_name = "vertex"
    settings_model: ClassVar[type[VertexConfig]] = VertexConfig
    operations = frozenset({"chat", "messages", "count_tokens"})

    settings: VertexConfig

    def __init__(self, name: str, settings: Any, missing_env: dict[str, str] | None = None) -> None:
        super().__init__(name, settings, missing_env)
        if not settings.base_url:
            self.base_url = base_url_for(settings.region)
        self.tokens: TokenSource = self._token_source(settings)
        self.gemini = VertexGemini(self)
        self.claude = VertexClaude(self)

    def _token_source(self, settings: VertexConfig) -> TokenSource:
        # google-auth (~11 MiB) is imported only where a Vertex account is configured.
        from .tokens import RefreshingToken, StaticToken, adc_loader, service_account_loader

        auth = settings.auth
        if isinstance(auth, AccessTokenAuth):
            return StaticToken(auth.token.get_secret_value())
        if isinstance(auth, ServiceAccountAuth):
            return RefreshingToken(self.name, service_account_loader(auth.credentials_file), auth.refresh_before_s)
        return RefreshingToken(self.name, adc_loader, auth.refresh_before_s)

    def for_model(self, model: str) -> Provider:
        entry = self.settings.models.get(model) or {}
        publisher = entry.get("publisher") or ("anthropic" if model.startswith("claude-") else "google")
        return self.claude if publisher == "anthropic" else self.gemini

    def model_info(self, model: str) -> dict[str, Any]:
        """Vertex names Claude versions with ``@date`` (``claude-sonnet-4-5@20250929``):
        the model table is looked up without it."""
        return models.model_info(model.split("@", 1)[0], self.settings.models.get(model))

    def http_auth(self) -> httpx.Auth:
        return VertexAuth(self.tokens)

    def secrets(self) -> list[str]:
        return super().secrets() + self.tokens.secrets()

    # Targets are served by the delegates (for_model); these keep a direct call right too.
    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        return self.for_model(attempt.target.model).build_request(ctx, attempt)

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        return self.for_model(attempt.target.model).parse_response(ctx, attempt, data)

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> StreamTranslator:
        return self.for_model(attempt.target.model).stream_translator(ctx, attempt)
