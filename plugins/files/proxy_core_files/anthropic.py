"""OpenAI's Files API over Anthropic's (``/v1/files``, beta ``files-api-2025-04-14``).

Anthropic keeps no ``purpose``: an upload's answer echoes the purpose the client sent;
list and retrieve report ``plugins.files.anthropic_purpose`` (default ``user_data``) for
files users uploaded and ``assistants_output`` for files Claude created (the downloadable
ones). Anthropic refuses to return the content of uploaded files: asking for it is a 400
that says so, without a content request upstream.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import structlog
from proxy_core_anthropic.provider import AnthropicProvider

from proxy_core import Attempt, RequestContext, Target, UpstreamRequest
from proxy_core.asgi import send_json
from proxy_core.errors import InvalidRequestError, ProxyError, UpstreamError

from .access import Page, page_ids, record_owner, scan, sees_all
from .multipart import UploadReader, boundary_of, check_length
from .upstream import FILE_ID, BodyError, FilesCall, open_upstream, read_json, relay

log = structlog.get_logger("proxy_core.files")

FILES_BETA = "files-api-2025-04-14"
FILES_PATH = "v1/files"  # relative to the account's base URL; a provider may set ``files_path``
PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
DEFAULT_PURPOSE = "user_data"
OUTPUT_PURPOSE = "assistants_output"
MAX_LIST_LIMIT = 1000  # Anthropic's page size limit
DEFAULT_LIST_LIMIT = 20  # Anthropic's default page size


def with_beta(headers: dict[str, str], beta: str = FILES_BETA) -> None:
    """Add ``beta`` to the ``anthropic-beta`` header, keeping the betas already there."""
    current = [b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()]
    if beta not in current:
        current.append(beta)
    headers["anthropic-beta"] = ",".join(current)


def check_purpose(purpose: str | None) -> str:
    if not purpose:
        raise InvalidRequestError("the upload needs a 'purpose' field", param="purpose")
    if purpose not in PURPOSES:
        raise InvalidRequestError(
            f"unknown purpose {purpose!r} (use one of {', '.join(sorted(PURPOSES))})", param="purpose"
        )
    return purpose


def file_object(meta: Any, purpose: str | None, default_purpose: str) -> dict[str, Any]:
    """Anthropic's file metadata as OpenAI's FileObject."""
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
        raise UpstreamError("the upstream returned an unexpected file object", status=502)
    if purpose is None:
        purpose = OUTPUT_PURPOSE if meta.get("downloadable") is True else default_purpose
    obj: dict[str, Any] = {
        "id": meta["id"],
        "object": "file",
        "bytes": meta.get("size_bytes") if isinstance(meta.get("size_bytes"), int) else 0,
        "created_at": timestamp(meta.get("created_at")) or 0,
        "filename": meta.get("filename") if isinstance(meta.get("filename"), str) else "",
        "purpose": purpose,
        "status": "processed",
    }
    expires = timestamp(meta.get("expires_at"))
    if expires is not None:
        obj["expires_at"] = expires
    return obj


def timestamp(value: Any) -> int | None:
    """RFC 3339 (``2025-04-15T18:37:24.100435Z``, any fraction length) -> Unix seconds."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # drop the fraction: Python parses at most 6 digits of it
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        text = head + rest[i:]
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return None


class AnthropicFiles:
    """The five /files operations against one Anthropic-wire account."""

    def __init__(self, call: FilesCall, ctx: RequestContext) -> None:
        self.call = call
        self.ctx = ctx
        provider = call.provider
        assert isinstance(provider, AnthropicProvider)
        self.provider = provider
        self.base = str(getattr(provider, "files_path", FILES_PATH)).strip("/")
        self.default_purpose = str(call.settings.get("anthropic_purpose") or DEFAULT_PURPOSE)

    # --- pieces ------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        """The provider's own upstream headers (version, betas, auth), plus the files beta."""
        attempt = Attempt(0, Target(self.call.account, "", self.provider), {})
        headers = self.provider.upstream_headers(self.ctx, attempt)
        with_beta(headers)
        return headers

    def path(self, suffix: str = "") -> str:
        return self.base + suffix.replace("{id}", self.call.file_id)

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        err = self.provider.parse_error(status, body, headers)
        if status == 404 and self.call.file_id:
            err.openai_type, err.code, err.param = "invalid_request_error", "file_not_found", "file_id"
        return err

    async def _json(self, method: str, path: str) -> Any:
        response = await open_upstream(self.call, UpstreamRequest(method, path, self.headers()))
        return await read_json(self.call, response, self.parse_error)

    # --- operations --------------------------------------------------------------

    async def create(self) -> None:
        call = self.call
        limit = call.max_upload_bytes
        check_length(call.headers, limit)
        reader = UploadReader(call.receive, boundary_of(call.headers.get("content-type")), limit)
        part = await reader.until_file()
        if "purpose" in reader.fields:
            check_purpose(reader.fields["purpose"])
        boundary = "proxy-core-" + uuid.uuid4().hex
        headers = self.headers()
        headers["content-type"] = f"multipart/form-data; boundary={boundary}"
        guard = BodyError()
        body = guard.guard(_file_form(boundary, part.filename, part.content_type, reader.file_chunks()))
        request = UpstreamRequest("POST", self.base, headers, content=body)  # type: ignore[arg-type]
        meta = await read_json(call, await open_upstream(call, request, guard), self.parse_error)
        try:
            await reader.finish()  # fields after the file part
            purpose = check_purpose(reader.fields.get("purpose"))
            obj = file_object(meta, purpose, self.default_purpose)
            await record_owner(call, obj["id"])
        except ProxyError:
            await self._forget(meta)
            raise
        await send_json(call.send, 200, obj, call.response_headers)

    async def _forget(self, meta: Any) -> None:
        """Delete an upload the client's request turned out to be invalid for (best effort)."""
        file_id = meta.get("id") if isinstance(meta, dict) else None
        if not isinstance(file_id, str) or not FILE_ID.fullmatch(file_id):
            return
        try:
            response = await open_upstream(
                self.call, UpstreamRequest("DELETE", f"{self.base}/{file_id}", self.headers())
            )
            await response.aclose()
        except ProxyError as e:
            log.warning("files.cleanup_failed", account=self.call.account, file_id=file_id, error=e.message)

    async def list(self) -> None:
        query = parse_qs(self.call.query)
        limit: int | None = None
        if "limit" in query:
            raw = query["limit"][-1]
            if not raw.isdigit() or int(raw) < 1:
                raise InvalidRequestError("limit must be a positive integer", param="limit")
            limit = min(int(raw), MAX_LIST_LIMIT)
        after = query["after"][-1] if query.get("after") else None
        purpose = query["purpose"][-1] if query.get("purpose") else None
        if sees_all(self.call):
            page = await self._page(limit, after)
        else:  # the caller's own files: scan full pages
            page = await scan(
                self.call,
                lambda cursor: self._page(MAX_LIST_LIMIT, cursor),
                limit or DEFAULT_LIST_LIMIT,
                after,
                keep=lambda meta: purpose is None or self._purpose_of(meta) == purpose,
            )
        data = [file_object(m, None, self.default_purpose) for m in page.items]
        if purpose:
            data = [f for f in data if f["purpose"] == purpose]
        first, last = page_ids(page)
        body = {"object": "list", "data": data, "has_more": page.has_more, "first_id": first, "last_id": last}
        await send_json(self.call.send, 200, body, self.call.response_headers)

    async def _page(self, limit: int | None, after: str | None) -> Page:
        params: dict[str, str] = {}
        if limit is not None:
            params["limit"] = str(limit)
        if after:
            params["after_id"] = after
        page = await self._json("GET", self.base + ("?" + urlencode(params) if params else ""))
        items = page.get("data") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("the upstream returned an unexpected file list", status=502)
        for meta in items:
            file_object(meta, None, self.default_purpose)  # 502 on a malformed entry
        return Page(items, page.get("has_more") is True, page.get("last_id"))

    def _purpose_of(self, meta: dict[str, Any]) -> str:
        return OUTPUT_PURPOSE if meta.get("downloadable") is True else self.default_purpose

    async def retrieve(self) -> None:
        meta = await self._json("GET", self.path("/{id}"))
        await send_json(self.call.send, 200, file_object(meta, None, self.default_purpose), self.call.response_headers)

    async def delete(self) -> None:
        data = await self._json("DELETE", self.path("/{id}"))
        await self.call.owners.forget(self.call.account, self.call.file_id)
        file_id = data.get("id") if isinstance(data, dict) else None
        body = {"id": file_id if isinstance(file_id, str) else self.call.file_id, "object": "file", "deleted": True}
        await send_json(self.call.send, 200, body, self.call.response_headers)

    async def content(self) -> None:
        meta = await self._json("GET", self.path("/{id}"))
        if isinstance(meta, dict) and meta.get("downloadable") is False:
            raise InvalidRequestError(
                f"file {self.call.file_id!r} cannot be downloaded: Anthropic returns the content only of "
                "files created by skills or the code execution tool, not of uploaded files",
                param="file_id",
                code="file_not_downloadable",
            )
        response = await open_upstream(self.call, UpstreamRequest("GET", self.path("/{id}/content"), self.headers()))
        if response.status_code >= 400:
            await read_json(self.call, response, self.parse_error)  # raises the upstream's error
        await relay(self.call, response)


async def _file_form(
    boundary: str, filename: str, content_type: str, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """A one-part multipart body (``file``) around the client's file bytes."""
    name = filename.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
    ctype = content_type.replace("\r", "").replace("\n", "")
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    ).encode()
    async for chunk in chunks:
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()
