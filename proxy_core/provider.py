"""The provider adapter contract: the only code that knows a provider's wire format.

A provider type is a :class:`Provider` subclass registered with
``register_providers``. The gateway builds one instance per provider account at
start-up, and one pooled ``httpx.AsyncClient`` for it (``base_url``, ``http_auth()``,
timeouts, limits). Per attempt, the pipeline calls ``build_request``, sends it, and
hands the answer to ``parse_response`` / ``stream_translator`` / ``parse_error``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import httpx
import orjson
from pydantic import BaseModel, SecretStr

from . import models
from .config import ProviderConfig
from .errors import ProviderNotConfiguredError, UpstreamError

if TYPE_CHECKING:
    from .context import Attempt, RequestContext, UpstreamRequest
    from .sse import SSEEvent
    from .upstream import UpstreamResponse


class StreamTranslator(Protocol):
    """Turns a provider's SSE events into canonical stream items for one attempt.

    ``feed`` returns the items one event produced (often one, maybe none) and raises
    :class:`UpstreamError` for an in-stream error event. ``finish`` runs at the
    upstream's end of stream and raises when the stream ended without its terminator.
    ``usage`` holds the usage seen so far (OpenAI names), for cost records.
    """

    usage: dict[str, Any] | None

    def feed(self, event: SSEEvent) -> list[Any]: ...

    def finish(self) -> list[Any]: ...


class Provider:
    """Base class of provider adapters. Subclasses set the class attributes."""

    type_name: ClassVar[str] = ""
    settings_model: ClassVar[type[ProviderConfig]] = ProviderConfig
    default_base_url: ClassVar[str] = ""
    # Operations this provider speaks natively: "chat", "messages", "count_tokens", ...
    operations: ClassVar[frozenset[str]] = frozenset({"chat"})
    # Feature capabilities, read by feature plugins: "cache_control", "thinking", ...
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, name: str, settings: ProviderConfig, missing_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.settings = settings
        self.missing_env = missing_env or {}
        self.base_url = (settings.base_url or self.default_base_url).rstrip("/")

    @property
    def unavailable_reason(self) -> str | None:
        """Why this account cannot serve (an unset variable), or None."""
        if not self.missing_env:
            return None
        fields = ", ".join(f"{field} (set {var})" for field, var in sorted(self.missing_env.items()))
        return f"provider account {self.name!r} is not configured: missing {fields}"

    def check_available(self) -> None:
        reason = self.unavailable_reason
        if reason:
            raise ProviderNotConfiguredError(reason)

    @property
    def api_key(self) -> str:
        key = self.settings.api_key
        return key.get_secret_value() if key is not None else ""

    def secrets(self) -> list[str]:
        """Every credential of this account, scrubbed from upstream error text: the
        settings' secret fields and the values of configured extra headers. Subclasses
        with credentials obtained at run time (assumed roles) add those."""
        found = [v for v in self.settings.headers.values() if len(v) >= 8]
        _secret_values(self.settings, found)
        return found

    def http_auth(self) -> httpx.Auth | None:
        """An ``httpx.Auth`` flow for every request of this account (SigV4, refresh...)."""
        return None

    def supports(self, operation: str) -> bool:
        return operation in self.operations

    def for_model(self, model: str) -> Provider:
        """The adapter that serves ``model`` of this account (``Target.provider``): this
        account itself, or, for an account whose models speak several wire formats
        (Vertex: Gemini and Claude), a delegate of that format sharing the account's
        name, settings and pooled client. Feature plugins read its ``capabilities``."""
        return self

    def model_info(self, model: str) -> dict[str, Any]:
        """The model's info: the shipped model table's entry (:mod:`proxy_core.models`)
        overlaid key by key with the account's per-model config entry."""
        return models.model_info(model, self.settings.models.get(model))

    # --- per attempt ---------------------------------------------------------------

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        raise NotImplementedError

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        raise NotImplementedError

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> StreamTranslator:
        raise NotImplementedError

    def stream_bytes(self, response: UpstreamResponse) -> AsyncIterator[bytes]:
        """A streamed answer's bytes as SSE, for ``stream_translator``. Providers whose
        streams are framed otherwise (Bedrock's binary event stream) convert them here."""
        return response.aiter_bytes()

    def usage_of(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any] | None:
        """A complete response's usage in OpenAI names (``prompt_tokens``...), for
        ``ctx.usage``. Override when the response is in another shape (native routes)."""
        usage = response.get("usage")
        return usage if isinstance(usage, dict) else None

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        """The provider's error response as an :class:`UpstreamError` (status kept)."""
        message = f"upstream returned HTTP {status}"
        try:
            data = orjson.loads(body)
            err = data.get("error") if isinstance(data, dict) else None
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                message = err["message"]
            elif isinstance(err, str):
                message = err
        except orjson.JSONDecodeError:
            pass
        return UpstreamError(message, status=status, headers=_retry_after(headers))


def _secret_values(node: Any, found: list[str]) -> None:
    if isinstance(node, SecretStr):
        value = node.get_secret_value()
        if value:
            found.append(value)
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            _secret_values(getattr(node, name), found)
    elif isinstance(node, dict | list | tuple):
        for value in node.values() if isinstance(node, dict) else node:
            _secret_values(value, found)


def _retry_after(headers: Mapping[str, str]) -> dict[str, str]:
    value = headers.get("retry-after")
    return {"retry-after": value} if value else {}
