"""Stream overload fallback: an ``overloaded_error`` before the first content moves on.

The `fallback` plugin (retries, health) is disabled in these tests (see conftest): the
core's default moves to the route's next target. What is checked is that the Anthropic
translators make such an error a clean attempt failure the client never sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from anthropic_helpers import events_for

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway

OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


@pytest.fixture
def routed(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    gateway_config["routes"] = {
        "claude-default": {"targets": ["anthropic-main/claude-sonnet-4-5", "anthropic/claude-3-5"]}
    }
    return gateway_factory(gateway_config)


def test_chat_stream_falls_back_on_overload_before_content(
    routed: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    first = [*events_for([{"type": "text", "text": "never"}])[:2], OVERLOADED]
    fake_anthropic.queue(Reply.sse(first), Reply.sse(events_for([{"type": "text", "text": "from the second"}])))
    client = openai.OpenAI(base_url=routed.url, api_key=GATEWAY_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="claude-default", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(raw.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "from the second"
    assert raw.headers["x-proxy-core-target"] == "anthropic/claude-3-5"
    assert [r.json()["model"] for r in fake_anthropic.requests] == ["claude-sonnet-4-5", "claude-3-5"]


def test_native_stream_falls_back_on_overload_before_content(
    routed: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    first = [*events_for([{"type": "text", "text": "never"}])[:2], OVERLOADED]
    fake_anthropic.queue(Reply.sse(first), Reply.sse(events_for([{"type": "text", "text": "native second"}])))
    client = anthropic.Anthropic(base_url=routed.url, api_key=GATEWAY_KEY, max_retries=0)
    with client.messages.stream(
        model="claude-default", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        assert "".join(stream.text_stream) == "native second"
    assert [r.json()["model"] for r in fake_anthropic.requests] == ["claude-sonnet-4-5", "claude-3-5"]


def test_http_529_falls_back(routed: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.json(OVERLOADED, status=529))
    client = openai.OpenAI(base_url=routed.url, api_key=GATEWAY_KEY, max_retries=0)
    response = client.chat.completions.create(model="claude-default", messages=[{"role": "user", "content": "hi"}])
    assert response.choices[0].message.content
    assert len(fake_anthropic.requests) == 2
