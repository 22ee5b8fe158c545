"""The ``files`` plugin: OpenAI's /files routed by a header to Anthropic's or OpenAI's Files API,
files owned by the key that uploaded them, and the Files beta header on chat requests that
reference uploaded files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from proxy_core import Attempt, Principal, RequestContext, UpstreamRequest, hookimpl
from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway

from .access import file_not_found
from .accounts import ANTHROPIC, wire_of
from .anthropic import with_beta
from .endpoint import FilesEndpoint
from .owners import TABLE, OwnerStore, open_owners, store_url

log = structlog.get_logger("proxy_core.files")

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


@dataclass
class FilesState:
    owners: OwnerStore


@hookimpl
async def gateway_started(gateway: Gateway) -> None:
    section = gateway.config.plugin_section(NAME)
    try:
        owners = open_owners(store_url(gateway, section), str(section.get("table") or TABLE))
    except ValueError as e:
        raise ConfigError([f"plugins.{NAME}: owners store: {e}"]) from None
    gateway.state[NAME] = FilesState(owners)
    try:
        await owners.open()
    except Exception as e:  # opened again on first use; until then file requests get 503
        log.error("files.owners_unavailable", error=f"{type(e).__name__}: {e}"[:300])


@hookimpl
async def gateway_stopping(gateway: Gateway) -> None:
    state: FilesState | None = gateway.state.pop(NAME, None)
    if state is not None:
        await state.owners.close()


@hookimpl
def authorize(ctx: RequestContext) -> Awaitable[None] | None:
    """A chat, messages or count_tokens request may reference only the caller's own files:
    another key's file id is a 404, before any upstream call."""
    principal = ctx.principal
    state: FilesState | None = ctx.gateway.state.get(NAME)
    if principal is None or principal.admin or ctx.route is None or state is None:
        return None
    raw = ctx.raw_body
    if raw and b"file_id" not in raw and b"\\u" not in raw:  # fast path: JSON that cannot name a file
        return None
    ids = referenced_files(ctx.body.get("messages")) + referenced_files(ctx.body.get("system"))
    if not ids:
        return None
    accounts = list(dict.fromkeys(t.account for t in ctx.route.targets))
    return _check_files(state.owners, principal, accounts, ids)


async def _check_files(owners: OwnerStore, principal: Principal, accounts: list[str], ids: list[str]) -> None:
    found = await owners.owners(accounts, ids)
    for file_id in ids:
        if principal.name not in found.get(file_id, ()):
            raise file_not_found(file_id)


def referenced_files(items: Any) -> list[str]:
    """File ids in messages (or system blocks): OpenAI ``file`` parts, Anthropic ``file``
    sources and ``container_upload`` blocks, tool results' content included."""
    ids: list[str] = []
    stack = [items]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "file" and isinstance(node.get("file"), dict):  # OpenAI chat part
            _add(ids, node["file"].get("file_id"))
        elif kind == "container_upload":
            _add(ids, node.get("file_id"))
        source = node.get("source")
        if isinstance(source, dict) and source.get("type") == "file":
            _add(ids, source.get("file_id"))
        content = node.get("content")
        if isinstance(content, list):
            stack.append(content)
    return ids


def _add(ids: list[str], file_id: Any) -> None:
    if isinstance(file_id, str) and file_id not in ids:
        ids.append(file_id)


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
