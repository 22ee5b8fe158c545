"""The ``bedrock`` provider type: Amazon Bedrock's runtime API.

Two operations:

* ``chat`` (OpenAI clients, every model family): Converse / ConverseStream
  (``POST /model/{modelId}/converse``, ``/converse-stream``), translated by
  :mod:`.converse_request`, :mod:`.converse_response` and :mod:`.streams`;
* ``messages`` (Anthropic clients, Claude models): InvokeModel /
  InvokeModelWithResponseStream with Anthropic's own body (``anthropic_version:
  bedrock-2023-05-31``, no ``model`` or ``stream``), answered with Anthropic's own
  message and events.

Capabilities (read by feature plugins through :meth:`for_model`): Claude models declare
``cache_control`` (marks become cache points), ``thinking`` (the reasoning plugin's
budgets, with the Anthropic route's ratios), ``tools``, ``vision``, ``pdf``; other
families the same without ``thinking``, so ``reasoning_effort`` is removed and reported
for them. Structured output goes through the structured-output plugin's forced tool.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from proxy_core_anthropic.provider import DROPPED_HEADER
from proxy_core_anthropic.response import openai_usage
from proxy_core_anthropic.validate import validate_native
from proxy_core_aws import ApiKeyAuth, CredentialSource, credential_source
from proxy_core_aws.sts import runtime_secrets

from proxy_core import Attempt, Provider, RequestContext, UpstreamRequest
from proxy_core.errors import UpstreamError
from proxy_core.provider import StreamTranslator
from proxy_core.upstream import UpstreamResponse

from .auth import LAST_PATH, BedrockAuth
from .config import BedrockConfig
from .converse_request import chat_to_converse
from .converse_response import converse_to_chat
from .errors import bedrock_error
from .eventstream import event_stream_as_sse, is_event_stream
from .families import ANTHROPIC, family
from .streams import ConverseChatStream, InvokeStream

BEDROCK_ANTHROPIC_VERSION = "bedrock-2023-05-31"


def model_path(model: str) -> str:
    """The model id as a path segment: percent-encoded but for ``:``, which stays as it is.

    The gateway's HTTP transport (aiohttp's yarl) sends ``%3A`` as ``:`` whatever the URL
    said, and SigV4 must sign the path that goes on the wire; ``:`` is valid in a path
    segment (RFC 3986 pchar), and ``/`` in an ARN stays encoded (``%2F``).
    """
    return quote(model, safe=":")


_NATIVE_DROPPED = ("model", "stream")


class BedrockProvider(Provider):
    type_name = "bedrock"
    settings_model: ClassVar[type[BedrockConfig]] = BedrockConfig
    default_base_url = "https://bedrock-runtime.{region}.amazonaws.com"
    operations = frozenset({"chat", "messages"})
    capabilities = frozenset({"cache_control", "thinking", "tools", "vision", "pdf"})

    settings: BedrockConfig

    def __init__(self, name: str, settings: Any, missing_env: dict[str, str] | None = None) -> None:
        super().__init__(name, settings, missing_env)
        if not settings.base_url:
            self.base_url = self.default_base_url.format(region=settings.region)
        self.credentials: CredentialSource | None = credential_source(name, settings.region, settings.auth)
        self._other: BedrockProvider | None = None

    def for_model(self, model: str) -> Provider:
        """This account for Claude models; for other families, a view of it (same name,
        settings, credentials and pooled client) that declares no ``thinking``."""
        if family(model, self.model_info(model)) == ANTHROPIC:
            return self
        if self._other is None:
            self._other = copy.copy(self)
            self._other.__class__ = OtherFamilies
        return self._other

    @property
    def api_key(self) -> str:
        auth = self.settings.auth
        return auth.api_key.get_secret_value() if isinstance(auth, ApiKeyAuth) else ""

    def secrets(self) -> list[str]:
        return super().secrets() + runtime_secrets(self.credentials)

    def stream_bytes(self, response: UpstreamResponse) -> AsyncIterator[bytes]:
        if is_event_stream(response):
            return event_stream_as_sse(response.aiter_bytes())
        return response.aiter_bytes()

    def http_auth(self) -> httpx.Auth:
        return BedrockAuth(self.settings.region, credentials=self.credentials, api_key=self.api_key)

    # --- per attempt ---------------------------------------------------------------

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        model = attempt.target.model
        path = f"model/{model_path(model)}/"
        headers = dict(self.settings.headers)
        if ctx.operation.name == "chat":
            body, dropped = chat_to_converse(attempt.body, model, attempt.target.info)
            if dropped:
                attempt.response_headers[DROPPED_HEADER] = ",".join(dict.fromkeys(dropped))
            path += "converse-stream" if ctx.stream else "converse"
        else:
            body = self._invoke_body(ctx, attempt)
            path += "invoke-with-response-stream" if ctx.stream else "invoke"
        headers["accept"] = "application/vnd.amazon.eventstream" if ctx.stream else "application/json"
        return UpstreamRequest("POST", path, headers, json=body, stream=ctx.stream)

    def _invoke_body(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        """Anthropic's Messages body as InvokeModel takes it for Claude."""
        body = attempt.body
        validate_native(body)
        out = {key: value for key, value in body.items() if key not in _NATIVE_DROPPED}
        out["anthropic_version"] = BEDROCK_ANTHROPIC_VERSION
        beta = ctx.headers.get("anthropic-beta")
        if beta:
            out["anthropic_beta"] = [name.strip() for name in beta.split(",") if name.strip()]
        return out

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        if ctx.operation.name == "chat":
            return converse_to_chat(data)
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise UpstreamError("Amazon Bedrock returned an unexpected InvokeModel response body", status=502)
        return data

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> StreamTranslator:
        if ctx.operation.name == "chat":
            options = attempt.body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            return ConverseChatStream(include_usage, self.name, self.secrets())
        return InvokeStream(self.name, self.secrets())

    def usage_of(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any] | None:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return None
        return usage if ctx.operation.name == "chat" else openai_usage(usage)

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return bedrock_error(
            status,
            body,
            dict(headers),
            account=self.name,
            region=self.settings.region,
            model_path=LAST_PATH.get(),
            api_key_auth=isinstance(self.settings.auth, ApiKeyAuth),
            secrets=self.secrets(),
        )


class OtherFamilies(BedrockProvider):
    """A Bedrock account serving a model that is not Claude (Nova, Llama, Mistral...):
    Converse only; Anthropic's Messages API reaches it through the Messages bridge."""

    operations = frozenset({"chat"})
    capabilities = frozenset({"cache_control", "tools", "vision", "pdf"})
