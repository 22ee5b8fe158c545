"""Refusals in each client's shape, on /v1/chat/completions and /v1/messages, streams included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from proxy_core.testing import FakeUpstream

MODEL = "anthropic-main/claude-sonnet-4-5"
RATE_HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests")
TOKEN_HEADERS = ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens")


@pytest.fixture
def ant(replicas: list[str]) -> Iterator[list[anthropic.Anthropic]]:
    clients = [anthropic.Anthropic(base_url=url, api_key="sk-k-ant", max_retries=0, timeout=30) for url in replicas]
    yield clients
    for c in clients:
        c.close()


def _messages(client: anthropic.Anthropic, **kw: Any) -> Any:
    return client.messages.with_raw_response.create(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}], **kw
    )


def test_messages_refusal_is_anthropic_shaped(
    ant: list[anthropic.Anthropic], fake_anthropic: FakeUpstream, redis_db: Any
) -> None:
    first = _messages(ant[0])
    for name in RATE_HEADERS + TOKEN_HEADERS:  # on successes too
        assert first.headers[name]
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert first.headers["x-ratelimit-limit-tokens"] == "50000"
    _messages(ant[1])
    with pytest.raises(anthropic.RateLimitError) as refused:
        _messages(ant[2])
    e = refused.value
    assert e.status_code == 429
    assert e.body["type"] == "error"
    assert e.body["error"]["type"] == "rate_limit_error"
    assert "plugins.limits.rules[5] (key=k-ant)" in e.body["error"]["message"]
    assert "rpm" in e.body["error"]["message"]
    assert e.response.headers["retry-after"].isdigit()
    assert e.response.headers["x-ratelimit-limit-requests"] == "2"
    assert e.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert len(fake_anthropic.requests) == 2


def test_refused_stream_is_a_plain_429_on_both_routes(
    ant: list[anthropic.Anthropic], replicas: list[str], fake_anthropic: FakeUpstream, redis_db: Any
) -> None:
    _messages(ant[0])
    _messages(ant[1])
    with pytest.raises(anthropic.RateLimitError) as refused:
        ant[2].messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}], stream=True)
    assert refused.value.response.headers["content-type"].startswith("application/json")
    assert refused.value.body["error"]["type"] == "rate_limit_error"
    oa = openai.OpenAI(base_url=replicas[0] + "/v1", api_key="sk-k-ant", max_retries=0)
    with oa, pytest.raises(openai.RateLimitError) as chat_refused:
        oa.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True)
    e = chat_refused.value
    assert e.response.headers["content-type"].startswith("application/json")
    assert e.code == "rate_limit_exceeded"
    assert e.type == "rate_limit_error"
    assert "plugins.limits.rules[5]" in e.message
    for name in ("retry-after", *RATE_HEADERS, *TOKEN_HEADERS):
        assert e.response.headers[name]
    assert len(fake_anthropic.requests) == 2
