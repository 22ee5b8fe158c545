"""The ``azure-openai`` provider type: OpenAI's Chat Completions on Azure deployments.

The wire format is OpenAI's, so this subclasses :class:`OpenAIProvider` and keeps its
request, response and stream handling. What differs: the deployment URL with its
``api-version`` query, the ``api-key`` header (or an Entra ID bearer token), no
``model`` in the body (the deployment names the model), per-model native structured
output and ``prompt_cache_key`` (model table), and Azure's errors (:mod:`.errors`).
Azure's content-filter annotations (``prompt_filter_results``,
``choices[].content_filter_results``) and ``finish_reason: content_filter`` are passed
through as they came, in answers and in stream chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from proxy_core_openai import OpenAIProvider, strip_message_fields

from proxy_core import Attempt, RequestContext, UpstreamRequest
from proxy_core.errors import UpstreamError

from .config import AzureOpenAIConfig
from .errors import azure_error

_ECHOED_FIELDS = frozenset({"reasoning_content", "thinking_blocks"})


class AzureOpenAIProvider(OpenAIProvider):
    type_name = "azure-openai"
    settings_model: ClassVar[type[AzureOpenAIConfig]] = AzureOpenAIConfig
    # JSON mode on every deployment; json_schema, reasoning_effort and prompt_cache_key
    # where the model's info says so (the model table, or the account's model entry).
    capabilities = frozenset({"json_object", "json_schema"})

    settings: AzureOpenAIConfig

    def __init__(self, name: str, settings: Any, missing_env: dict[str, str] | None = None) -> None:
        super().__init__(name, settings, missing_env)
        base = self.base_url.removesuffix("/openai")  # the resource endpoint, however written
        self.base_url = base
        self._query = "?api-version=" + settings.api_version

    def auth_headers(self) -> dict[str, str]:
        auth = self.settings.auth
        if auth is not None:
            return {"authorization": "Bearer " + auth.token.get_secret_value()}
        return {"api-key": self.api_key}

    def deployment(self, model: str) -> str:
        entry = self.settings.models.get(model) or {}
        deployment = entry.get("deployment")
        return deployment if isinstance(deployment, str) and deployment else model

    def chat_path(self, attempt: Attempt) -> str:
        return f"openai/deployments/{self.deployment(attempt.target.model)}/chat/completions{self._query}"

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        # Echoes of earlier answers that Azure's message schema does not take.
        strip_message_fields(attempt.body, _ECHOED_FIELDS)
        request = super().build_request(ctx, attempt)
        attempt.body.pop("model", None)  # the deployment in the URL names the model
        return request

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return azure_error(super().parse_error(status, body, headers), body, self.name)
