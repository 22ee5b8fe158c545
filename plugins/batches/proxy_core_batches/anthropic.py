"""Anthropic's Message Batches API on an Anthropic-wire account (Anthropic, Claude
Platform on AWS): the provider's own headers, path and auth, bodies passed through.

``params.model`` of each request may be ``account/model`` (``@account/model``) naming
the routed account, or the account's model as it is; it goes up as the account's model.
``results_url`` in batch objects points at the gateway (the anthropic SDK fetches it).
Results are relayed as they come and metered for the spend record
(:mod:`.results`), priced at the batch discount.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from proxy_core_anthropic.provider import AnthropicProvider
from proxy_core_files.passthrough import ANTHROPIC_LIST
from proxy_core_files.upstream import RELAYED_HEADERS, FilesCall, open_upstream, read_json

from proxy_core import Attempt, RequestContext, Target, UpstreamRequest
from proxy_core.asgi import encode_headers, send_json
from proxy_core.errors import InvalidRequestError, PermissionDeniedError, UpstreamError

from .common import batch_id_of, client_json, exchange, send_page
from .results import ResultsMeter

BATCH_PRICE_FACTOR = 0.5  # Anthropic bills Message Batches at 50 % of the standard prices
PRICE_FACTOR_STATE = "cost.price_factor"  # read by the cost plugin


class AnthropicBatches:
    def __init__(self, call: FilesCall, ctx: RequestContext, batch_id: str) -> None:
        provider = call.provider
        assert isinstance(provider, AnthropicProvider)
        self.call = call
        self.ctx = ctx
        self.provider = provider
        self.batch_id = batch_id
        self.base = provider.paths["messages"].strip("/") + "/batches"

    def headers(self) -> dict[str, str]:
        return self.provider.upstream_headers(self.ctx, Attempt(0, Target(self.call.account, "", self.provider), {}))

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return self.provider.parse_error(status, body, headers)

    def public(self, batch: Any) -> Any:
        """A batch object with its ``results_url`` on the gateway."""
        if isinstance(batch, dict) and batch.get("results_url") and isinstance(batch.get("id"), str):
            scope = self.call.scope
            host = self.call.headers.get("host", "localhost")
            root = scope.get("root_path", "")
            batch["results_url"] = f"{scope.get('scheme', 'http')}://{host}{root}/{self.base}/{batch['id']}/results"
        return batch

    async def _send(self, data: Any) -> None:
        await send_json(self.call.send, 200, self.public(data), self.call.response_headers)

    # --- actions ---------------------------------------------------------------------

    async def create(self) -> None:
        body = await client_json(self.call, self.ctx)
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise InvalidRequestError("requests: Field required (a non-empty array)")
        for i, item in enumerate(requests):
            params = item.get("params") if isinstance(item, dict) else None
            if not isinstance(item.get("custom_id") if isinstance(item, dict) else None, str) or not isinstance(
                params, dict
            ):
                raise InvalidRequestError(f"requests.{i}: must be an object with a string 'custom_id' and 'params'")
            params["model"] = self.upstream_model(params.get("model"), f"requests.{i}.params.model")
        data = await exchange(self.call, "POST", self.base, self.headers(), self.parse_error, body)
        await self.call.owners.record(self.call.account, batch_id_of(data), self.call.principal)
        await self._send(data)

    def upstream_model(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or not name:
            raise InvalidRequestError(f"{where}: Field required")
        account = self.call.account
        model = name.removeprefix("@")
        if "/" in model:
            named, _, model = model.partition("/")
            if named != account:
                raise InvalidRequestError(f"{where}: {name!r} names another account than {account!r}")
        if model not in self.provider.settings.models:
            raise InvalidRequestError(f"{where}: provider account {account!r} has no model {model!r}")
        if not self.call.principal.may_use(f"{account}/{model}"):
            raise PermissionDeniedError(f"key '{self.call.principal.name}' may not use {account}/{model}")
        return model

    async def retrieve(self) -> None:
        await self._send(
            await exchange(self.call, "GET", f"{self.base}/{self.batch_id}", self.headers(), self.parse_error)
        )

    async def cancel(self) -> None:
        path = f"{self.base}/{self.batch_id}/cancel"
        await self._send(await exchange(self.call, "POST", path, self.headers(), self.parse_error))

    async def delete(self) -> None:
        data = await exchange(self.call, "DELETE", f"{self.base}/{self.batch_id}", self.headers(), self.parse_error)
        await self.call.owners.forget(self.call.account, self.batch_id)
        await self._send(data)

    async def list(self) -> None:
        await send_page(self.call, self.base, self.headers(), self.parse_error, ANTHROPIC_LIST, self.public)

    async def results(self) -> None:
        request = UpstreamRequest("GET", f"{self.base}/{self.batch_id}/results", self.headers())
        response = await open_upstream(self.call, request)
        if response.status_code >= 400:
            await read_json(self.call, response, self.parse_error)  # raises the upstream's error
        meter = ResultsMeter()
        await relay_metered(self.call, response, meter)
        meter.finish()
        self._bill(meter, request)

    def _bill(self, meter: ResultsMeter, request: UpstreamRequest) -> None:
        """The results' usage on this request's spend record, at the batch price."""
        usage = meter.usage
        if usage is None or meter.model is None:
            return
        target = Target(self.call.account, meter.model, self.provider, self.provider.model_info(meter.model))
        attempt = Attempt(0, target, {})
        attempt.status, attempt.upstream_request, attempt.ended = 200, request, time.monotonic()
        self.ctx.attempts.append(attempt)
        self.ctx.usage, self.ctx.usage_source = usage, "upstream"
        self.ctx.state[PRICE_FACTOR_STATE] = BATCH_PRICE_FACTOR


async def relay_metered(call: FilesCall, response: httpx.Response, meter: ResultsMeter) -> None:
    """Stream the results to the client as they come, each chunk also fed to ``meter``."""
    try:
        headers = {k: v for k in RELAYED_HEADERS if (v := response.headers.get(k)) is not None}
        headers.update(call.response_headers)
        start = {"type": "http.response.start", "status": response.status_code, "headers": encode_headers(headers)}
        await call.send(start)
        async for chunk in response.aiter_raw():
            if chunk:
                meter.feed(chunk)
                await call.send({"type": "http.response.body", "body": chunk, "more_body": True})
        await call.send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await response.aclose()
