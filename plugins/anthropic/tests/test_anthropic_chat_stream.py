"""Streaming chat through an ``anthropic`` account: Messages SSE -> OpenAI chunks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import orjson
import pytest
from anthropic_helpers import MODEL, UPSTREAM_MODEL, events_for

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7rvWM2C/kG/ZRl6uZv1ypZo+VULo3FDLkqOZhPOdA=="


def test_stream_seed(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count from 1 to 5."}], stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANTHROPIC_TEXT
    assert all(c.model == MODEL and c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert all(c.usage is None for c in chunks)
    upstream = fake_anthropic.last
    assert upstream.json() == {
        "model": UPSTREAM_MODEL,
        "messages": [{"role": "user", "content": "Count from 1 to 5."}],
        "max_tokens": 8192,
        "stream": True,
    }
    assert upstream.headers["accept"] == "text/event-stream"


def test_stream_include_usage(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50}
    fake_anthropic.queue(Reply.sse(events_for([{"type": "text", "text": "hi there"}], usage=usage)))
    chunks = list(
        openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (160, 8, 168)
    assert last.usage.prompt_tokens_details is not None and last.usage.prompt_tokens_details.cached_tokens == 50
    assert (last.usage.model_extra or {})["cache_creation_input_tokens"] == 100
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert "stream_options" not in fake_anthropic.last.json()


def test_stream_parallel_tool_calls_keep_indices(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    content = [
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {"tz": "Europe/Rome", "fmt": "24h"}},
        {"type": "tool_use", "id": "toolu_3", "name": "noop", "input": {}},
    ]
    fake_anthropic.queue(Reply.sse(events_for(content, stop_reason="tool_use")))
    chunks = list(
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True)
    )
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for tc in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
            if tc.id:
                assert not entry["id"], "the id comes once, on the first delta"
                entry["id"] = tc.id
                assert tc.type == "function"
            if tc.function and tc.function.name:
                entry["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                entry["args"] += tc.function.arguments
    assert sorted(calls) == [0, 1, 2]
    assert [calls[i]["id"] for i in range(3)] == ["toolu_1", "toolu_2", "toolu_3"]
    assert [calls[i]["name"] for i in range(3)] == ["get_weather", "get_time", "noop"]
    assert [json.loads(calls[i]["args"]) for i in range(3)] == [c["input"] for c in content[1:]]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Checking both."
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_stream_thinking_blocks_with_signature(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    content = [
        {"type": "thinking", "thinking": "Let me think step by step.", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
        {"type": "text", "text": "5 cents."},
        {"type": "tool_use", "id": "toolu_7", "name": "calc", "input": {"x": 1}},
    ]
    fake_anthropic.queue(Reply.sse(events_for(content, stop_reason="tool_use")))
    chunks = list(
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True)
    )
    deltas = [c.choices[0].delta.model_extra or {} for c in chunks if c.choices]
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
    assert reasoning == "Let me think step by step."
    blocks = [b for d in deltas for b in d.get("thinking_blocks") or []]
    assert blocks == [
        {"type": "thinking", "thinking": "Let me think step by step.", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
    ]
    tool = [tc for c in chunks for tc in c.choices[0].delta.tool_calls or []]
    assert tool[0].index == 0 and tool[0].id == "toolu_7"


def test_stream_error_event_becomes_openai_error(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    events = events_for([{"type": "text", "text": "partial answer here"}])[:5]
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    fake_anthropic.queue(Reply.sse(events, delay_between=0.02))
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    got = []
    with pytest.raises(openai.APIError) as info:
        got.extend(stream)
    assert "Overloaded" in info.value.message
    assert got, "content before the error reached the client"


def test_stream_error_before_content_is_an_http_error(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    events = events_for([{"type": "text", "text": "x"}])[:2]
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    fake_anthropic.queue(Reply.sse(events))
    with pytest.raises(openai.APIStatusError) as info:
        list(
            openai_client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
            )
        )
    assert info.value.status_code == 529
    assert info.value.body == {"message": "Overloaded", "type": "overloaded_error", "param": None, "code": None}


def test_stream_cut_without_message_stop(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    events = events_for([{"type": "text", "text": "abcdefghijkl"}])
    fake_anthropic.queue(Reply.sse(events[:-2]))  # no message_delta, no message_stop
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as info:
        list(stream)
    assert "message_stop" in info.value.message


def test_stream_malformed_event(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    events: list[Any] = events_for([{"type": "text", "text": "abcdefghijkl"}])[:4]
    events.append(b"event: content_block_delta\ndata: {not json\n\n")
    fake_anthropic.queue(Reply.sse(events, delay_between=0.02))
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as info:
        list(stream)
    assert "malformed" in info.value.message


def test_stream_error_event_wire_shape(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    """After content, an upstream error is one OpenAI-shaped data line, and no [DONE]."""
    events = events_for([{"type": "text", "text": "partial answer here"}])[:5]
    events.append({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}})
    fake_anthropic.queue(Reply.sse(events, delay_between=0.02))
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/v1/chat/completions",
            headers={"authorization": "Bearer " + GATEWAY_KEY},
            json={"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200
    lines = [line for line in response.content.split(b"\n\n") if line]
    assert b"[DONE]" not in response.content
    assert orjson.loads(lines[-1].removeprefix(b"data: ")) == {
        "error": {"message": "Internal server error", "type": "server_error", "param": None, "code": None}
    }
    assert any(b'"content":"part' in line for line in lines[:-1])
