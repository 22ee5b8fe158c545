"""Message Batches through the anthropic SDK on an Anthropic account and a Claude Platform
on AWS account: create -> results, owned by the creating key, results priced at the batch
discount; both ends asserted."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from batches_fakes import (
    ALICE_KEY,
    BATCH_ID,
    BOB_KEY,
    Charges,
    FakeAwsPlatform,
    anthropic_error,
    create_batch,
    message_batch,
    results_jsonl,
)

from proxy_core.testing import FakeUpstream, Reply, RunningGateway

REQUESTS = [
    {
        "custom_id": "a",
        "params": {"model": "MODEL", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]},
    },
    {
        "custom_id": "b",
        "params": {"model": "MODEL", "max_tokens": 100, "messages": [{"role": "user", "content": "Yo"}]},
    },
]


def client(gateway: RunningGateway, key: str, account: str) -> anthropic.Anthropic:
    # The account goes as a default header: the SDK's results() retrieves the batch first.
    return anthropic.Anthropic(
        base_url=gateway.url, api_key=key, max_retries=0, timeout=10, default_headers={"x-proxy-core-account": account}
    )


@pytest.fixture
def alice(gateway: RunningGateway) -> Iterator[anthropic.Anthropic]:
    with client(gateway, ALICE_KEY, "anthropic-main") as c:
        yield c


def requests_for(model: str) -> list[dict[str, object]]:
    return [{**r, "params": {**r["params"], "model": model}} for r in REQUESTS]  # type: ignore[dict-item]


def run_create_then_results(
    c: anthropic.Anthropic, upstream: FakeUpstream, model: str, upstream_model: str
) -> list[object]:
    upstream.queue(create_batch)
    batch = c.messages.batches.create(requests=requests_for(model))  # type: ignore[arg-type]
    assert batch.id == BATCH_ID and batch.processing_status == "in_progress"
    sent = upstream.last
    assert sent.method == "POST" and sent.path == "/v1/messages/batches"
    assert [r["params"]["model"] for r in sent.json()["requests"]] == [upstream_model, upstream_model]
    upstream_url = f"https://upstream.example/v1/messages/batches/{BATCH_ID}/results"
    upstream.queue(
        Reply.json(message_batch("ended", upstream_url)),
        Reply.raw(results_jsonl(upstream_model), content_type="application/binary"),
    )
    results = list(c.messages.batches.results(BATCH_ID))
    assert [r.custom_id for r in results] == ["a", "c", "b"]
    assert results[0].result.type == "succeeded" and results[1].result.type == "errored"
    assert upstream.last.path == f"/v1/messages/batches/{BATCH_ID}/results"  # fetched through the gateway
    return results


def test_create_then_results_on_anthropic(
    alice: anthropic.Anthropic, fake_anthropic: FakeUpstream, charges: Charges
) -> None:
    run_create_then_results(alice, fake_anthropic, "anthropic-main/claude-sonnet-4-5", "claude-sonnet-4-5")
    for request in fake_anthropic.requests:
        assert request.headers["x-api-key"] == "sk-ant-upstream-secret"
        assert request.headers["anthropic-version"]
    assert ALICE_KEY not in str([r.headers for r in fake_anthropic.requests])
    results = [c for op, c in charges.seen if op == "batches.results"]
    assert len(results) == 1
    bill = results[0]
    assert (bill.tokens.input, bill.tokens.output) == (4000, 1000)
    standard = (4000 * 3.0 + 1000 * 15.0) / 1e6
    assert bill.cost_usd == pytest.approx(standard * 0.5)  # the batch discount
    assert bill.model == "claude-sonnet-4-5" and bill.account == "anthropic-main"


def test_create_then_results_on_claude_platform_on_aws(gateway: RunningGateway, aws: FakeAwsPlatform) -> None:
    with client(gateway, ALICE_KEY, "aws-claude") as c:
        run_create_then_results(c, aws, "claude-sonnet-4-5", "claude-sonnet-4-5")
    assert aws.rejections == []  # every call signed (SigV4) with the workspace header
    assert all(r.headers["authorization"].startswith("AWS4-HMAC-SHA256") for r in aws.requests)


def test_another_key_cannot_see_or_cancel_the_batch(
    gateway: RunningGateway, alice: anthropic.Anthropic, fake_anthropic: FakeUpstream
) -> None:
    fake_anthropic.queue(create_batch)
    alice.messages.batches.create(requests=requests_for("anthropic-main/claude-sonnet-4-5"))  # type: ignore[arg-type]
    with client(gateway, BOB_KEY, "anthropic-main") as bob:
        with pytest.raises(anthropic.NotFoundError) as err:
            bob.messages.batches.retrieve(BATCH_ID)
        assert err.value.body["type"] == "error"  # type: ignore[index]
        with pytest.raises(anthropic.NotFoundError):
            bob.messages.batches.cancel(BATCH_ID)
        fake_anthropic.queue(
            Reply.json({"data": [message_batch()], "has_more": False, "first_id": BATCH_ID, "last_id": BATCH_ID})
        )
        assert list(bob.messages.batches.list()) == []
    assert len(fake_anthropic.requests) == 2  # the create and bob's list page; no retrieve, no cancel
    fake_anthropic.queue(
        Reply.json({"data": [message_batch()], "has_more": False, "first_id": BATCH_ID, "last_id": BATCH_ID})
    )
    assert [b.id for b in alice.messages.batches.list()] == [BATCH_ID]
    fake_anthropic.queue(Reply.json(message_batch("canceling")))
    assert alice.messages.batches.cancel(BATCH_ID).processing_status == "canceling"
    assert fake_anthropic.last.path == f"/v1/messages/batches/{BATCH_ID}/cancel"


def test_bad_requests_get_anthropic_errors_without_upstream_calls(
    alice: anthropic.Anthropic, fake_anthropic: FakeUpstream
) -> None:
    with pytest.raises(anthropic.BadRequestError, match="another account"):
        alice.messages.batches.create(requests=requests_for("openai-main/gpt-4o"))  # type: ignore[arg-type]
    with pytest.raises(anthropic.BadRequestError, match="has no model"):
        alice.messages.batches.create(requests=requests_for("claude-unknown"))  # type: ignore[arg-type]
    with pytest.raises(anthropic.BadRequestError, match="custom_id"):
        alice.messages.batches.create(requests=[{"params": {}}])  # type: ignore[list-item]
    assert fake_anthropic.requests == []


def test_openai_account_on_the_messages_batches_route_is_a_400(
    gateway: RunningGateway, fake_openai: FakeUpstream
) -> None:
    with client(gateway, ALICE_KEY, "openai-main") as c, pytest.raises(anthropic.BadRequestError, match="/v1/batches"):
        c.messages.batches.create(requests=requests_for("gpt-4o"))  # type: ignore[arg-type]
    assert fake_openai.requests == []


def test_upstream_errors_come_back_as_they_came(alice: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(anthropic_error(429, "rate_limit_error", "Too many batches"))
    with pytest.raises(anthropic.RateLimitError, match="Too many batches"):
        alice.messages.batches.create(requests=requests_for("claude-sonnet-4-5"))  # type: ignore[arg-type]
