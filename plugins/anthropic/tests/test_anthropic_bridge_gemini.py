"""/v1/messages to a Gemini account (the kit's FakeGemini, which rejects what the real API
rejects): the Messages bridge through the gemini plugin's chat translation, with no code
for Gemini in the bridge. Text, tools round trip, thinking, usage, stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest

from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, Reply, RunningGateway, run_fake
from proxy_core.testing.fake_gemini import GEMINI_KEY, FakeGemini, gemini_answer, gemini_events

MODEL = "gemini-main/gemini-2.5-flash"
TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
USAGE = {"promptTokenCount": 40, "candidatesTokenCount": 6, "thoughtsTokenCount": 4, "totalTokenCount": 50}


@pytest.fixture(scope="module")
def gemini(proxy_core_loop: BackgroundLoop) -> Iterator[FakeGemini]:
    yield from run_fake(proxy_core_loop, FakeGemini())


@pytest.fixture
def client(
    gemini: FakeGemini, gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]
) -> Iterator[anthropic.Anthropic]:
    gemini.reset()
    config = {**gateway_config, "providers": dict(gateway_config["providers"])}
    config["providers"]["gemini-main"] = {
        "type": "gemini",
        "api_key": GEMINI_KEY,
        "base_url": gemini.url,
        "models": {"gemini-2.5-flash": {}},
    }
    gw = gateway_factory(config)
    with anthropic.Anthropic(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10) as c:
        yield c


def test_tools_round_trip(client: anthropic.Anthropic, gemini: FakeGemini) -> None:
    call = {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
    gemini.queue(Reply.json(gemini_answer([call], usage=USAGE)))
    first = client.messages.create(
        model=MODEL,
        max_tokens=200,
        tools=[TOOL],
        messages=[{"role": "user", "content": "Weather in Rome?"}],  # type: ignore[list-item]
    )
    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["tool_use"]
    use = first.content[0]
    assert use.type == "tool_use" and use.name == "get_weather" and use.input == {"city": "Rome"}
    assert first.usage.input_tokens == 40
    gemini.queue(Reply.json(gemini_answer([{"text": "Sunny in Rome."}], usage=USAGE)))
    second = client.messages.create(
        model=MODEL,
        max_tokens=200,
        tools=[TOOL],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "Weather in Rome?"},
            {"role": "assistant", "content": [use.model_dump()]},  # type: ignore[list-item]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
        ],
    )
    assert second.content[0].text == "Sunny in Rome."  # type: ignore[union-attr]
    assert gemini.rejections == []  # the fake accepted the translated history (tool result answers the call)
    contents = gemini.last.json()["contents"]
    assert contents[1]["parts"][0]["functionCall"]["name"] == "get_weather"
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_stream_with_thinking_and_exact_usage(client: anthropic.Anthropic, gemini: FakeGemini) -> None:
    gemini.queue(
        gemini_events([{"text": "Hmm, ", "thought": True}, {"text": "Hello"}, {"text": " there."}], usage=USAGE)
    )
    with client.messages.stream(
        model=MODEL,
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Hi"}],
    ) as stream:
        kinds = [e.type for e in stream if e.type in ("message_start", "message_delta", "message_stop")]
        final = stream.get_final_message()
    assert kinds == ["message_start", "message_delta", "message_stop"]
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[1].text == "Hello there."  # type: ignore[union-attr]
    assert final.usage.input_tokens == 40 and final.usage.output_tokens == 10
    assert final.stop_reason == "end_turn"
    assert gemini.rejections == []
    assert "thinkingConfig" in gemini.last.json()["generationConfig"]  # thinking -> reasoning_effort -> thinkingConfig
