"""Chat completions, messages and count_tokens through the official SDKs, with each auth
method, against the fake platform that verifies every request's SigV4 signature."""

from __future__ import annotations

import anthropic
import openai
import pytest
from aws_fakes import ACCOUNTS, MODEL, FakePlatform, FakeSTS, assert_authenticated

from proxy_core.testing import Reply
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT, anthropic_events, anthropic_message

USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("account", ACCOUNTS)
def test_chat_completion(account: str, openai_client: openai.OpenAI, platform: FakePlatform, sts: FakeSTS) -> None:
    r = openai_client.chat.completions.create(model=f"{account}/{MODEL}", messages=USER, max_tokens=50)
    assert r.choices[0].message.content == ANTHROPIC_TEXT
    assert r.model == f"{account}/{MODEL}"
    assert r.usage is not None and r.usage.prompt_tokens == 12
    assert_authenticated(platform, account)
    sent = platform.last
    assert sent.path == "/v1/messages"
    assert sent.json() == {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}


@pytest.mark.parametrize("account", ACCOUNTS)
def test_chat_stream(account: str, openai_client: openai.OpenAI, platform: FakePlatform) -> None:
    stream = openai_client.chat.completions.create(
        model=f"{account}/{MODEL}", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANTHROPIC_TEXT
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8
    assert platform.last.json()["stream"] is True
    assert platform.last.headers["accept"] == "text/event-stream"
    assert_authenticated(platform, account)


@pytest.mark.parametrize("account", ACCOUNTS)
def test_messages(account: str, anthropic_client: anthropic.Anthropic, platform: FakePlatform) -> None:
    msg = anthropic_client.messages.create(
        model=f"{account}/{MODEL}",
        max_tokens=64,
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"anthropic-beta": "files-api-2025-04-14"},
    )
    assert msg.content[0].type == "text" and msg.content[0].text == ANTHROPIC_TEXT
    assert_authenticated(platform, account)
    sent = platform.last
    body = sent.json()
    assert body["model"] == MODEL  # bare first-party id upstream
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent.headers["anthropic-beta"] == "files-api-2025-04-14"


@pytest.mark.parametrize("account", ACCOUNTS)
def test_messages_stream(account: str, anthropic_client: anthropic.Anthropic, platform: FakePlatform) -> None:
    platform.queue(Reply.sse(anthropic_events(MODEL, "streamed through AWS")))
    with anthropic_client.messages.stream(
        model=f"{account}/{MODEL}", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "streamed through AWS"
    assert final.usage.output_tokens == 8
    assert_authenticated(platform, account)


@pytest.mark.parametrize("account", ACCOUNTS)
def test_count_tokens(account: str, anthropic_client: anthropic.Anthropic, platform: FakePlatform) -> None:
    r = anthropic_client.messages.count_tokens(model=f"{account}/{MODEL}", messages=[{"role": "user", "content": "hi"}])
    assert r.input_tokens == 42
    assert platform.last.path == "/v1/messages/count_tokens"
    assert_authenticated(platform, account)


def test_tools_and_thinking_round_trip(openai_client: openai.OpenAI, platform: FakePlatform) -> None:
    content = [
        {"type": "thinking", "thinking": "weather needs a tool", "signature": "sig-abc=="},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]
    platform.queue(Reply.json(anthropic_message(MODEL, content, stop_reason="tool_use")))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    r = openai_client.chat.completions.create(
        model=f"aws-key/{MODEL}",
        messages=USER,
        tools=tools,
        tool_choice="auto",  # with thinking, Anthropic accepts only auto or none
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.arguments == '{"city":"Paris"}'
    extra = choice.message.model_extra or {}
    assert extra["thinking_blocks"][0]["signature"] == "sig-abc=="
    sent = platform.last.json()
    assert sent["tools"][0]["name"] == "get_weather" and sent["tool_choice"] == {"type": "auto"}
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert_authenticated(platform, "aws-key")
