"""The ``files`` plugin: OpenAI's /files routed by a header to Anthropic's or OpenAI's Files API,
and the Files beta header on chat requests that reference uploaded files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxy_core import Attempt, RequestContext, UpstreamRequest, hookimpl
from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway

from .accounts import ANTHROPIC, wire_of
from .anthropic import with_beta
from .endpoint import FilesEndpoint

NAME = "files"
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # OpenAI's per-file limit; Anthropic's is 500 MB


def max_upload_bytes(section: dict[str, Any]) -> int:
    value = section.get("max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError([f"plugins.{NAME}.max_upload_bytes: must be a positive integer (bytes)"])
    return value


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    section = gateway.config.plugin_section(NAME)
    limit = max_upload_bytes(section)
    purpose = section.get("anthropic_purpose")
    if purpose is not None and not isinstance(purpose, str):
        raise ConfigError([f"plugins.{NAME}.anthropic_purpose: must be a string"])
    register("/files", FilesEndpoint(gateway, "collection", limit, section), methods=["GET", "POST"])
    register("/files/{file_id}", FilesEndpoint(gateway, "item", limit, section), methods=["GET", "DELETE"])
    register("/files/{file_id}/content", FilesEndpoint(gateway, "content", limit, section), methods=["GET"])


@hookimpl
def prepare_upstream_request(ctx: RequestContext, attempt: Attempt, request: UpstreamRequest) -> None:
    """Anthropic takes file-source blocks only with the Files beta: add it when one is there."""
    body = request.json
    if not isinstance(body, dict) or wire_of(attempt.target.provider) != ANTHROPIC:
        return
    if _has_file_source(body.get("messages")) or _has_file_source(body.get("system")):
        with_beta(request.headers)


def _has_file_source(blocks: Any) -> bool:
    """Any ``{"source": {"type": "file"}}`` block in messages' content (tool results included)."""
    if not isinstance(blocks, list):
        return False
    for block in blocks:
        if not isinstance(block, dict):
            continue
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "file":
            return True
        if _has_file_source(block.get("content")):
            return True
    return False
