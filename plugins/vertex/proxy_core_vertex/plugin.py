"""Google Vertex AI upstreams (provider type ``vertex``): Gemini and Claude models."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl

from .provider import VertexProvider


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register("vertex", VertexProvider)
