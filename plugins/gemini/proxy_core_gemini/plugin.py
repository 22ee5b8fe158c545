"""Gemini API upstreams (provider type ``gemini``), and native JSON output for every
target that speaks Gemini's wire format (Gemini API, Gemini on Vertex AI)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import Attempt, RequestContext, hookimpl

from .native_output import take_native
from .provider import GeminiProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register("gemini", GeminiProvider)


@hookimpl(tryfirst=True)  # before structured-output, which would make it a forced function
def prepare_request(ctx: RequestContext, attempt: Attempt) -> None:
    if ctx.operation.name == "chat" and isinstance(attempt.target.provider, GeminiProvider):
        take_native(attempt)
