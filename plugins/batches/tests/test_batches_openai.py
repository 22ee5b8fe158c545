"""OpenAI's Batch API through the openai SDK on an OpenAI account: the input file must be
the caller's, the batch is the creator's, and its output file becomes the creator's so
``/files/{id}/content`` serves it."""

from __future__ import annotations

import io

import openai
import pytest
from batches_fakes import ALICE_KEY, BOB_KEY

from proxy_core.testing import FakeUpstream, Reply, RunningGateway


def sdk(gateway: RunningGateway, key: str) -> openai.OpenAI:
    headers = {"x-proxy-core-account": "openai-main"}
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0, timeout=10, default_headers=headers)


def batch(status: str = "validating", output: str | None = None) -> dict[str, object]:
    return {
        "id": "batch_abc123",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": "file-in1",
        "completion_window": "24h",
        "status": status,
        "output_file_id": output,
        "error_file_id": None,
        "created_at": 1714508499,
        "request_counts": {"total": 2, "completed": 2 if output else 0, "failed": 0},
    }


def test_create_retrieve_and_fetch_output(gateway: RunningGateway, fake_openai: FakeUpstream) -> None:
    file_object = {
        "id": "file-in1",
        "object": "file",
        "bytes": 10,
        "created_at": 1,
        "filename": "in.jsonl",
        "purpose": "batch",
        "status": "processed",
    }
    with sdk(gateway, ALICE_KEY) as alice, sdk(gateway, BOB_KEY) as bob:
        fake_openai.queue(Reply.json(file_object))
        alice.files.create(file=("in.jsonl", io.BytesIO(b'{"custom_id": "a"}\n')), purpose="batch")
        with pytest.raises(openai.NotFoundError):  # bob may not batch alice's file
            bob.batches.create(input_file_id="file-in1", endpoint="/v1/chat/completions", completion_window="24h")
        fake_openai.queue(Reply.json(batch()))
        created = alice.batches.create(
            input_file_id="file-in1", endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert created.id == "batch_abc123"
        sent = fake_openai.last
        assert sent.path == "/v1/batches" and sent.headers["authorization"] == "Bearer sk-upstream-openai-secret"
        assert sent.json() == {
            "input_file_id": "file-in1",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        }
        with pytest.raises(openai.NotFoundError):
            bob.batches.retrieve("batch_abc123")
        fake_openai.queue(Reply.json(batch("completed", "file-out1")))
        assert alice.batches.retrieve("batch_abc123").output_file_id == "file-out1"
        fake_openai.queue(Reply.raw(b'{"custom_id": "a", "response": {}}\n', content_type="application/octet-stream"))
        assert alice.files.content("file-out1").content.startswith(b'{"custom_id"')
        assert fake_openai.last.path == "/v1/files/file-out1/content"
        with pytest.raises(openai.NotFoundError):
            bob.files.content("file-out1")
        fake_openai.queue(Reply.json(batch("cancelling")))
        assert alice.batches.cancel("batch_abc123").status == "cancelling"
        fake_openai.queue(
            Reply.json(
                {
                    "object": "list",
                    "data": [batch()],
                    "has_more": False,
                    "first_id": "batch_abc123",
                    "last_id": "batch_abc123",
                }
            )
        )
        assert [b.id for b in bob.batches.list()] == []


def test_anthropic_account_on_the_openai_route_is_a_400(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    headers = {"x-proxy-core-account": "anthropic-main"}
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=ALICE_KEY, max_retries=0, default_headers=headers)
    with client as c, pytest.raises(openai.BadRequestError, match="messages/batches"):
        c.batches.create(input_file_id="f", endpoint="/v1/chat/completions", completion_window="24h")
    assert fake_anthropic.requests == []
