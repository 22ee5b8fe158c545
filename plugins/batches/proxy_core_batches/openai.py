"""OpenAI's Batch API on an OpenAI account: bodies passed through with the account's key.

The input file must be one the caller uploaded through the gateway (``/files``, the
``files`` plugin's owners); the output and error files of the caller's batch become the
caller's, so ``/files/{id}/content`` serves them. Results are files: they are fetched
through ``/files`` and not metered here (see the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy_core_files.access import file_not_found
from proxy_core_files.passthrough import OPENAI_LIST
from proxy_core_files.upstream import FilesCall

from proxy_core import RequestContext
from proxy_core.asgi import send_json
from proxy_core.errors import InvalidRequestError, UpstreamError

from .common import batch_id_of, client_json, exchange, send_page

_OUTPUT_FILES = ("output_file_id", "error_file_id")


class OpenAIBatches:
    def __init__(self, call: FilesCall, ctx: RequestContext, batch_id: str) -> None:
        self.call = call
        self.ctx = ctx
        self.batch_id = batch_id
        provider = call.provider
        self.provider = provider
        self.base = "batches"

    def headers(self) -> dict[str, str]:
        return {"authorization": "Bearer " + self.provider.api_key, **self.provider.settings.headers}

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return self.provider.parse_error(status, body, headers)

    async def _send(self, data: Any) -> None:
        await self._adopt_outputs(data)
        await send_json(self.call.send, 200, data, self.call.response_headers)

    async def _adopt_outputs(self, batch: Any) -> None:
        """The output and error files of the caller's batch are the caller's."""
        if not isinstance(batch, dict):
            return
        for name in _OUTPUT_FILES:
            file_id = batch.get(name)
            if isinstance(file_id, str) and file_id:
                await self.call.owners.record(self.call.account, file_id, self.call.principal)

    async def create(self) -> None:
        body = await client_json(self.call, self.ctx)
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str) or not file_id:
            raise InvalidRequestError("'input_file_id' is required", param="input_file_id")
        principal = self.call.principal
        if not principal.admin:
            owners = await self.call.owners.owners([self.call.account], [file_id])
            if principal.name not in owners.get(file_id, ()):
                raise file_not_found(file_id)
        data = await exchange(self.call, "POST", self.base, self.headers(), self.parse_error, body)
        await self.call.owners.record(self.call.account, batch_id_of(data), principal)
        await self._send(data)

    async def retrieve(self) -> None:
        await self._send(
            await exchange(self.call, "GET", f"{self.base}/{self.batch_id}", self.headers(), self.parse_error)
        )

    async def cancel(self) -> None:
        path = f"{self.base}/{self.batch_id}/cancel"
        await self._send(await exchange(self.call, "POST", path, self.headers(), self.parse_error))

    async def list(self) -> None:
        await send_page(self.call, self.base, self.headers(), self.parse_error, OPENAI_LIST, lambda batch: batch)
