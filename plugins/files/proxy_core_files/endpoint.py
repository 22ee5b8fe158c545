"""The /files endpoints: authenticate, pick the account from the header, check who owns
the file, run the operation, and end in ``on_request_end`` like every request (access
log, metrics, trace span, spend record).

Two client APIs: OpenAI's Files API (the openai SDK), and Anthropic's (the anthropic
SDK's ``client.beta.files``, told apart by its ``anthropic-version`` header). Errors
reach the client in its API's shape. Once a streamed answer (a download) has started, a
failure can only cut the connection: the client sees a short body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxy_core import RequestContext
from proxy_core.asgi import Receive, Scope, Send
from proxy_core.endpoints import RecordedEndpoint
from proxy_core.errors import InvalidRequestError
from proxy_core.operations import Operation

from .access import check_owner
from .accounts import ANTHROPIC, select_account
from .anthropic import AnthropicFiles
from .owners import OwnerStore
from .passthrough import ANTHROPIC_LIST, OPENAI_LIST, passthrough
from .upstream import FILE_ID, FilesCall

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

# (route, HTTP method) -> operation
ACTIONS = {
    ("collection", "POST"): "create",
    ("collection", "GET"): "list",
    ("item", "GET"): "retrieve",
    ("item", "DELETE"): "delete",
    ("content", "GET"): "content",
}


class FilesOperation(Operation):
    """A /files request, for the records: ``files.create``, ``files.list``, ... ."""

    def __init__(self, action: str, api: str) -> None:
        self.name = "files." + action
        self.api = api


def client_api(headers: dict[str, str]) -> str:
    """The anthropic SDK always sends ``anthropic-version``; the openai SDK never does."""
    return "anthropic" if "anthropic-version" in headers else "openai"


class FilesEndpoint(RecordedEndpoint):
    """One /files route (``collection``, ``item`` or ``content``)."""

    def __init__(self, gateway: Gateway, route: str, max_upload_bytes: int, settings: dict[str, Any]) -> None:
        super().__init__(gateway)
        self.route = route
        self.max_upload_bytes = max_upload_bytes
        self.settings = settings

    @property
    def owners(self) -> OwnerStore:
        store: OwnerStore = self.gateway.state["files"].owners
        return store

    def operation(self, scope: Scope, headers: dict[str, str]) -> Operation:
        return FilesOperation(ACTIONS[(self.route, scope["method"])], client_api(headers))

    async def serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        principal = ctx.principal
        assert principal is not None
        action = ctx.operation.name.removeprefix("files.")
        account, provider, wire = select_account(gateway, ctx.headers, principal)
        call = FilesCall(
            gateway,
            scope,
            receive,
            send,
            ctx.headers,
            account,
            provider,
            self.max_upload_bytes,
            principal,
            self.owners,
            ctx.api,
            self.settings,
        )
        call.response_headers = {"x-request-id": ctx.request_id}
        if self.route != "collection":
            if not FILE_ID.fullmatch(call.file_id):
                raise InvalidRequestError(f"invalid file id {call.file_id!r}", param="file_id", code="invalid_file_id")
            await check_owner(call)
        if wire == ANTHROPIC:
            files = AnthropicFiles(call, ctx)
            if ctx.api == "anthropic":  # Anthropic's Files API to an Anthropic-wire account
                await passthrough(call, action, files.headers(), files.base, ANTHROPIC_LIST)
            else:
                await getattr(files, action)()
        elif ctx.api == "anthropic":
            raise InvalidRequestError(
                f"provider account {account!r} speaks OpenAI's Files API: use the openai SDK for it, "
                "or an Anthropic-wire account with the anthropic SDK",
                code="files_api_mismatch",
            )
        else:
            provider_headers = {"authorization": "Bearer " + provider.api_key, **provider.settings.headers}
            await passthrough(call, action, provider_headers, "files", OPENAI_LIST)
