"""Fake batch APIs: scripted answers that validate requests like the real APIs, a Claude
Platform on AWS fake that checks SigV4, and a recorder of spend charges."""

from __future__ import annotations

from typing import Any

import orjson
from proxy_core_cost.prices import PriceTable
from proxy_core_cost.record import charge

from proxy_core import RequestContext, hookimpl
from proxy_core.testing import FakeUpstream, RecordedRequest, Reply
from proxy_core.testing.aws_sigv4 import verify_sigv4
from proxy_core.testing.fake_answers import anthropic_message

ALICE_KEY = "sk-proxy-core-batches-alice"  # two tenants of the same accounts, not admins
BOB_KEY = "sk-proxy-core-batches-bob"
BATCH_ID = "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d"
WORKSPACE = "wrkspc_01AbCdEf23GhIj"
REGION = "us-west-2"
ACCESS_KEY_ID = "AKIATESTBATCHES00001"
SECRET_KEY = "batches-secret-access-key-0123456789abcdef"


def anthropic_error(status: int, kind: str, message: str) -> Reply:
    return Reply.json({"type": "error", "error": {"type": kind, "message": message}}, status=status)


def message_batch(
    status: str = "in_progress", results_url: str | None = None, batch_id: str = BATCH_ID
) -> dict[str, Any]:
    return {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {
            "processing": 2 if status == "in_progress" else 0,
            "succeeded": 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        },
        "ended_at": None,
        "created_at": "2026-11-30T10:00:00Z",
        "expires_at": "2026-12-01T10:00:00Z",
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": results_url,
    }


def create_batch(request: RecordedRequest) -> Reply:
    """Anthropic's validation of a create body: requests with custom_id and params."""
    body = request.json()
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        return anthropic_error(400, "invalid_request_error", "requests: Field required")
    for i, item in enumerate(requests):
        params = item.get("params") or {}
        if not isinstance(item.get("custom_id"), str) or not (1 <= len(item["custom_id"]) <= 64):
            return anthropic_error(400, "invalid_request_error", f"requests.{i}.custom_id: invalid")
        if not isinstance(params.get("max_tokens"), int) or "/" in str(params.get("model")):
            return anthropic_error(400, "invalid_request_error", f"requests.{i}.params: invalid")
    return Reply.json(message_batch())


def results_jsonl(model: str) -> bytes:
    ok = {
        "custom_id": "a",
        "result": {
            "type": "succeeded",
            "message": anthropic_message(
                model, [{"type": "text", "text": "Hi"}], usage={"input_tokens": 1000, "output_tokens": 200}
            ),
        },
    }
    ok2 = {
        "custom_id": "b",
        "result": {
            "type": "succeeded",
            "message": anthropic_message(
                model, [{"type": "text", "text": "Yo"}], usage={"input_tokens": 3000, "output_tokens": 800}
            ),
        },
    }
    err = {
        "custom_id": "c",
        "result": {
            "type": "errored",
            "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}},
        },
    }
    return b"\n".join(orjson.dumps(x) for x in (ok, err, ok2)) + b"\n"


class FakeAwsPlatform(FakeUpstream):
    """The kit's Anthropic fake behind Claude Platform on AWS's gate: workspace header
    and a SigV4 signature (service aws-external-anthropic) botocore recomputes."""

    def __init__(self) -> None:
        super().__init__("anthropic")
        self.rejections: list[str] = []

    def _next_reply(self, request: RecordedRequest) -> Reply:
        problem = None
        if request.headers.get("anthropic-workspace-id") != WORKSPACE:
            problem = "workspace header missing"
        else:
            problem = verify_sigv4(
                request,
                {ACCESS_KEY_ID: (SECRET_KEY, None)},
                REGION,
                "aws-external-anthropic",
                ("anthropic-workspace-id",),
            )
        if problem is None:
            return super()._next_reply(request)
        with self._cond:
            self.requests.append(request)
            self.rejections.append(problem)
        return Reply.json({"message": problem}, status=403)


class Charges:
    """A plugin keeping each request's charge (what the spend record gets)."""

    def __init__(self) -> None:
        self.table = PriceTable.shipped()
        self.seen: list[tuple[str, Any]] = []

    @hookimpl
    def on_request_end(self, ctx: RequestContext) -> None:
        self.seen.append((ctx.operation.name, charge(ctx, self.table)))
