"""The Messages bridge is generic: a provider type that speaks only chat through its own
translator (here the Anthropic wire behind a chat-only provider, as a Bedrock or Gemini
adapter would be) serves /v1/messages with thinking signatures, tools and usage intact."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest
from anthropic_helpers import events_for, message_reply
from proxy_core_anthropic.provider import AnthropicProvider

from proxy_core import hookimpl
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway

MODEL = "claude-via-chat/claude-sonnet-4-5"


class ChatOnlyClaude(AnthropicProvider):
    type_name = "test-chat-only-claude"
    operations = frozenset({"chat"})


class ChatOnlyPlugin:
    @hookimpl
    def register_providers(self, register: Callable[[str, type], None]) -> None:
        register(ChatOnlyClaude.type_name, ChatOnlyClaude)


@pytest.fixture
def client(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_anthropic: FakeUpstream
) -> Iterator[anthropic.Anthropic]:
    config = {**gateway_config, "providers": dict(gateway_config["providers"])}
    config["providers"]["claude-via-chat"] = {
        "type": ChatOnlyClaude.type_name,
        "api_key": "sk-ant-upstream-secret",
        "base_url": fake_anthropic.url,
        "models": {"claude-sonnet-4-5": {}},
    }
    gw = gateway_factory(config, plugins=[("chat-only-claude", ChatOnlyPlugin())])
    with anthropic.Anthropic(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10) as c:
        yield c


THINKING = {"type": "thinking", "thinking": "Let me see.", "signature": "sig-abc=="}
TOOL = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}


def test_stream_keeps_signatures_tools_and_usage(client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.sse(events_for([THINKING, TOOL], stop_reason="tool_use")))
    with client.messages.stream(
        model=MODEL,
        max_tokens=4000,
        thinking={"type": "enabled", "budget_tokens": 2000},
        tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    ) as stream:
        kinds = [e.type for e in stream if e.type != "text"]
        final = stream.get_final_message()
    assert kinds.count("message_start") == 1
    assert [b.type for b in final.content] == ["thinking", "tool_use"]
    assert final.content[0].signature == "sig-abc=="  # type: ignore[union-attr]
    assert final.content[1].input == {"city": "Oslo"}  # type: ignore[union-attr]
    assert final.stop_reason == "tool_use"
    assert final.usage.input_tokens == 12 and final.usage.output_tokens == 8
    # the chat-only provider got the bridged request through its own chat translator
    sent = fake_anthropic.last.json()
    assert sent["tools"] == [{"name": "get_weather", "input_schema": {"type": "object"}}]
    assert sent["thinking"]["type"] == "enabled"  # reasoning_effort -> thinking by the reasoning plugin


def test_thinking_blocks_go_back_with_their_signatures(
    client: anthropic.Anthropic, fake_anthropic: FakeUpstream
) -> None:
    fake_anthropic.queue(message_reply([{"type": "text", "text": "Sunny."}]))
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": [THINKING, TOOL]},  # type: ignore[list-item]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
        ],
    )
    assert message.content[0].text == "Sunny."  # type: ignore[union-attr]
    turns = fake_anthropic.last.json()["messages"]
    assert turns[1]["content"][0] == THINKING
    assert turns[1]["content"][1] == TOOL
    assert turns[2]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]
