"""/v1/messages to an OpenAI-wire account: the anthropic SDK's messages.create through the
Messages bridge (Messages -> chat upstream -> Message), count_tokens estimated."""

from __future__ import annotations

from typing import Any

import anthropic
import orjson
import pytest
from bridge_helpers import MODEL, completion

from proxy_core.testing import FakeUpstream, Reply

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_text_answer_and_what_went_up(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(
        completion(
            {"content": "Bonjour."},
            usage={
                "prompt_tokens": 30,
                "completion_tokens": 9,
                "total_tokens": 39,
                "prompt_tokens_details": {"cached_tokens": 10},
            },
        )
    )
    response = anthropic_client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=100,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "Say hello in French"}],
        stop_sequences=["END"],
        extra_body={"temperature": 0.2, "top_k": 5},
        metadata={"user_id": "u-1"},
    )
    message = response.parse()
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Bonjour."  # type: ignore[union-attr]
    assert message.model == MODEL and message.role == "assistant" and message.id.startswith("msg_")
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 20 and message.usage.cache_read_input_tokens == 10
    assert message.usage.output_tokens == 9
    assert response.headers["x-proxy-core-target"] == "openai-main/gpt-4o-mini"
    assert response.headers["x-proxy-core-dropped-params"] == "top_k"

    sent = fake_openai.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-upstream-openai-secret"
    assert "x-api-key" not in sent.headers and "anthropic-version" not in sent.headers
    body = sent.json()
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][1] == {"role": "user", "content": "Say hello in French"}
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][0]["content"][0]["text"] == "Be brief."
    assert body["max_completion_tokens"] == 100 and "max_tokens" not in body
    assert body["stop"] == ["END"] and body["temperature"] == 0.2 and body["user"] == "u-1"
    assert "top_k" not in body and "metadata" not in body


def test_tools_round_trip(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    fake_openai.queue(completion({"content": None, "tool_calls": [call]}, finish="tool_calls"))
    first = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["tool_use"]  # no empty text block
    use = first.content[0]
    assert (
        use.type == "tool_use" and use.id == "call_1" and use.name == "get_weather" and use.input == {"city": "Paris"}
    )
    body = fake_openai.last.json()
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": WEATHER_TOOL["input_schema"],
                "description": "Weather in a city",
            },
        }
    ]
    assert body["tool_choice"] == "required" and body["parallel_tool_calls"] is False

    fake_openai.queue(completion({"content": "It is sunny."}))
    second = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},  # type: ignore[misc]
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_1",
                        "content": [{"type": "text", "text": "sunny, 24C"}],
                    },
                    {"type": "text", "text": "Answer in one line."},
                ],
            },
        ],
    )
    assert second.content[0].text == "It is sunny."  # type: ignore[union-attr]
    messages = fake_openai.last.json()["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 24C"}
    assert messages[3] == {"role": "user", "content": "Answer in one line."}


@pytest.mark.parametrize(
    ("finish", "extra", "expected"),
    [
        ("stop", {}, "end_turn"),
        ("length", {}, "max_tokens"),
        ("content_filter", {}, "refusal"),
        ("stop", {"stop_sequence": "END"}, "stop_sequence"),
    ],
)
def test_stop_reasons(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream, finish: str, extra: dict[str, Any], expected: str
) -> None:
    reply = completion({"content": "partial"}, finish=finish)
    if extra:  # the canonical extension a translating provider sets when it knows the sequence
        data = orjson.loads(reply.body)
        data["choices"][0].update(extra)
        reply = Reply.json(data)
    fake_openai.queue(reply)
    message = anthropic_client.messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    assert message.stop_reason == expected
    assert message.stop_sequence == extra.get("stop_sequence")


def test_refusal(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(completion({"content": None, "refusal": "I can't help with that."}))
    message = anthropic_client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}])
    assert message.stop_reason == "refusal"
    assert message.content[0].text == "I can't help with that."  # type: ignore[union-attr]


def test_thinking_asks_for_reasoning_and_comes_back_as_a_block(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(completion({"content": "42", "reasoning_content": "6 x 7"}))
    message = anthropic_client.messages.create(
        model="openai-main/o4-mini",
        max_tokens=20000,
        thinking={"type": "enabled", "budget_tokens": 16000},
        messages=[{"role": "user", "content": "6 x 7?"}],
    )
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "6 x 7"  # type: ignore[union-attr]
    body = fake_openai.last.json()
    assert body["reasoning_effort"] == "high" and "thinking" not in body


def test_images_and_pdfs_become_parts(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    anthropic_client.messages.create(
        model=MODEL,
        max_tokens=50,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"},
                    },
                    {"type": "text", "text": "Describe"},
                ],
            }
        ],
    )
    parts = fake_openai.last.json()["messages"][0]["content"]
    assert parts[0] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    assert parts[1] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    assert parts[2] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0x", "filename": "document.pdf"},
    }
    assert parts[3] == {"type": "text", "text": "Describe"}


def test_unsupported_blocks_are_anthropic_400s_without_upstream_call(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    with pytest.raises(anthropic.BadRequestError) as err:
        anthropic_client.messages.create(
            model=MODEL,
            max_tokens=50,
            tools=[{"type": "code_execution_20250522", "name": "code_execution"}],  # type: ignore[list-item]
            messages=[{"role": "user", "content": "run"}],
        )
    assert err.value.body["type"] == "error"  # type: ignore[index]
    assert "code_execution_20250522" in err.value.message
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.create(
            model=MODEL,
            max_tokens=50,
            messages=[
                {"role": "user", "content": [{"type": "search_result", "source": "x", "title": "t", "content": []}]}
            ],  # type: ignore[list-item]
        )
    assert fake_openai.requests == []
    # and the gateway keeps serving
    assert anthropic_client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
    ).content


def test_upstream_errors_reach_the_client_in_anthropic_shape(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(
        Reply.json(
            {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit_exceeded"}},
            status=429,
        )
    )
    with pytest.raises(anthropic.RateLimitError) as err:
        anthropic_client.messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    body = err.value.body
    assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert "Rate limit reached" in body["error"]["message"]


def test_count_tokens_is_an_estimate_marked_as_such(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    text = "word " * 400  # 2,000 characters
    response = anthropic_client.messages.with_raw_response.count_tokens(
        model=MODEL, system="Be brief.", messages=[{"role": "user", "content": text}]
    )
    assert response.headers["x-proxy-core-token-count"] == "estimate"
    assert response.parse().input_tokens == -(-(2000 + len("Be brief.")) // 4)
    assert fake_openai.requests == []
