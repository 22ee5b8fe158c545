"""The ``batches`` plugin: Anthropic's ``/v1/messages/batches`` for Anthropic-wire accounts
and OpenAI's ``/v1/batches`` for OpenAI accounts, routed by ``x-proxy-core-account`` and
owned by the creating key, both through the ``files`` plugin's routing and owner store."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl
from proxy_core.gateway import Gateway

from .endpoint import BatchesEndpoint


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    def route(path: str, api: str, methods: dict[str, str]) -> None:
        register(path, BatchesEndpoint(gateway, api, methods), methods=list(methods))

    route("/messages/batches", "anthropic", {"POST": "create", "GET": "list"})
    route("/messages/batches/{batch_id}", "anthropic", {"GET": "retrieve", "DELETE": "delete"})
    route("/messages/batches/{batch_id}/cancel", "anthropic", {"POST": "cancel"})
    route("/messages/batches/{batch_id}/results", "anthropic", {"GET": "results"})
    route("/batches", "openai", {"POST": "create", "GET": "list"})
    route("/batches/{batch_id}", "openai", {"GET": "retrieve"})
    route("/batches/{batch_id}/cancel", "openai", {"POST": "cancel"})
