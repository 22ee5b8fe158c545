"""Anthropic's Messages API on every provider: ``/v1/messages`` served through the
target's chat (the canonical shape), ``count_tokens`` estimated where the target has no
counter. Registered through the core's ``operation_bridge`` hook, so it works for any
provider that speaks chat, with no code per provider.
"""

from __future__ import annotations

from typing import Any

from proxy_core import Attempt, RequestContext
from proxy_core.operations import Operation
from proxy_core.provider import StreamTranslator

from .estimate import estimate_input_tokens
from .request import messages_to_chat
from .response import chat_to_message
from .stream import MessagesEvents

DROPPED_HEADER = "x-proxy-core-dropped-params"
TOKEN_COUNT_HEADER = "x-proxy-core-token-count"  # "estimate" on count_tokens answers of the gateway


class MessagesThroughChat:
    """``messages`` -> the target's ``chat`` and back."""

    def __init__(self, chat: Operation) -> None:
        self.operation: Operation | None = chat

    def convert_request(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        body, dropped = messages_to_chat(attempt.body, attempt.target.model)
        if dropped:
            attempt.response_headers[DROPPED_HEADER] = ",".join(dropped)
        return body

    def convert_response(self, ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> dict[str, Any]:
        return chat_to_message(response)

    def stream_converter(self, ctx: RequestContext, attempt: Attempt, translator: StreamTranslator) -> MessagesEvents:
        return MessagesEvents(ctx.requested_model, estimate_input_tokens(ctx.body), translator)

    def answer_locally(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        raise NotImplementedError  # operation is set: the upstream answers


class CountTokensEstimate:
    """``count_tokens`` answered by the gateway's estimate (no upstream call)."""

    operation: Operation | None = None

    def convert_request(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        return attempt.body

    def convert_response(self, ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> dict[str, Any]:
        return response

    def stream_converter(self, ctx: RequestContext, attempt: Attempt, translator: StreamTranslator) -> MessagesEvents:
        raise NotImplementedError  # count_tokens does not stream

    def answer_locally(self, ctx: RequestContext, attempt: Attempt) -> dict[str, Any]:
        messages_to_chat({**attempt.body, "max_tokens": 1}, attempt.target.model)  # a real request's 400s
        attempt.response_headers[TOKEN_COUNT_HEADER] = "estimate"
        return {"input_tokens": estimate_input_tokens(attempt.body)}


COUNT_TOKENS_ESTIMATE = CountTokensEstimate()


def operation_bridge(ctx: RequestContext, attempt: Attempt) -> MessagesThroughChat | CountTokensEstimate | None:
    name = ctx.operation.name
    chat = ctx.gateway.operations.get("chat")
    if name == "messages" and chat is not None and attempt.target.provider.supports("chat"):
        return MessagesThroughChat(chat)
    if name == "count_tokens":
        return COUNT_TOKENS_ESTIMATE
    return None
