"""The batches endpoints: authenticate, pick the account from the header (the ``files``
plugin's routing), check who owns the batch (the ``files`` plugin's owner store, keyed
by account and batch id), run the action, and end in ``on_request_end`` like every
request (access log, metrics, trace span, spend record).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proxy_core_files.accounts import ANTHROPIC, OPENAI, select_account
from proxy_core_files.owners import OwnerStore
from proxy_core_files.upstream import FilesCall

from proxy_core import RequestContext
from proxy_core.asgi import Receive, Scope, Send
from proxy_core.endpoints import RecordedEndpoint
from proxy_core.errors import (
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
)
from proxy_core.operations import Operation

from .anthropic import AnthropicBatches
from .openai import OpenAIBatches

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway


BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BatchOperation(Operation):
    """A batches request, for the records: ``batches.create``, ``batches.results``, ..."""

    def __init__(self, action: str, api: str) -> None:
        self.name = "batches." + action
        self.api = api


def batch_not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"No such batch: {batch_id!r}", param="batch_id", code="batch_not_found")


class BatchesEndpoint(RecordedEndpoint):
    """One batches route of one client API ("anthropic" or "openai")."""

    def __init__(self, gateway: Gateway, api: str, actions: dict[str, str]) -> None:
        super().__init__(gateway)
        self.api = api
        self.actions = actions  # HTTP method -> action

    def operation(self, scope: Scope, headers: dict[str, str]) -> Operation:
        return BatchOperation(self.actions[scope["method"]], self.api)

    async def serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        principal = ctx.principal
        assert principal is not None
        action = ctx.operation.name.removeprefix("batches.")
        account, provider, wire = select_account(gateway, ctx.headers, principal)
        if wire != (ANTHROPIC if self.api == "anthropic" else OPENAI):
            raise InvalidRequestError(
                f"provider account {account!r} (type {provider.type_name!r}) has no "
                + ("Message Batches API: use /v1/batches (the openai SDK)" if self.api == "anthropic" else "")
                + ("OpenAI Batch API: use /v1/messages/batches (the anthropic SDK)" if self.api == "openai" else ""),
                code="batches_api_mismatch",
            )
        state = gateway.state.get("files")
        if state is None:
            raise ServiceUnavailableError("batch ownership is not available (the files plugin is not started)")
        owners: OwnerStore = state.owners
        call = FilesCall(gateway, scope, receive, send, ctx.headers, account, provider, 0, principal, owners, self.api)
        call.response_headers = {"x-request-id": ctx.request_id}
        batch_id = str(scope.get("path_params", {}).get("batch_id", ""))
        if batch_id:
            if not BATCH_ID.fullmatch(batch_id):
                raise InvalidRequestError(f"invalid batch id {batch_id!r}", param="batch_id", code="invalid_batch_id")
            if not principal.admin:
                found = await owners.owners([account], [batch_id])
                if principal.name not in found.get(batch_id, ()):
                    raise batch_not_found(batch_id)
        actions = (
            AnthropicBatches(call, ctx, batch_id) if self.api == "anthropic" else OpenAIBatches(call, ctx, batch_id)
        )
        await getattr(actions, action)()
