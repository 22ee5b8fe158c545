"""ConverseStream through the openai SDK: the binary event-stream framing decoded by
botocore's parser, whatever the byte boundaries; text, tools, thinking, usage."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from bedrock_fakes import CLAUDE, NOVA
from botocore.eventstream import EventStreamBuffer

from proxy_core.testing.fake_bedrock import (
    TEXT,
    FakeBedrock,
    converse_stream_frames,
    encode_frame,
    event_frame,
    event_stream,
)


def collect(openai_client: openai.OpenAI, model: str = CLAUDE, **kw: Any) -> list[Any]:
    stream = openai_client.chat.completions.create(
        model=f"bedrock/{model}",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
        **kw,
    )
    return list(stream)


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_encoder_agrees_with_botocore() -> None:
    frame = encode_frame({":event-type": "messageStart", ":message-type": "event"}, b'{"role":"assistant"}')
    buffer = EventStreamBuffer()
    buffer.add_data(frame + frame[:7])
    (message,) = list(buffer)
    assert message.headers == {":event-type": "messageStart", ":message-type": "event"}
    assert message.payload == b'{"role":"assistant"}'


def test_stream_with_usage(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    usage = {"inputTokens": 4, "outputTokens": 9, "cacheReadInputTokens": 50, "cacheWriteInputTokens": 6}
    bedrock.queue(event_stream(converse_stream_frames(usage=usage)))
    chunks = collect(openai_client)
    assert bedrock.rejections == [] and bedrock.last.path == f"/model/{CLAUDE}/converse-stream"
    assert bedrock.last.headers["accept"] == "application/vnd.amazon.eventstream"
    assert text_of(chunks) == TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    last: Any = chunks[-1]
    assert last.choices == [] and (last.usage.prompt_tokens, last.usage.completion_tokens) == (60, 9)
    assert last.usage.prompt_tokens_details.cached_tokens == 50 and last.usage.cache_creation_input_tokens == 6


@pytest.mark.parametrize("size", [1, 7, 100])
def test_frames_split_anywhere(openai_client: openai.OpenAI, bedrock: FakeBedrock, size: int) -> None:
    data = b"".join(converse_stream_frames([{"text": "split across reads"}]))
    bedrock.queue(event_stream([data[i : i + size] for i in range(0, len(data), size)]))
    assert text_of(collect(openai_client, NOVA)) == "split across reads"


def test_stream_tools_and_thinking(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    blocks = [
        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "c2ln"}}},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": "tooluse_2", "name": "time", "input": {}}},
    ]
    bedrock.queue(event_stream(converse_stream_frames(blocks, stop_reason="tool_use")))
    tools: Any = [{"type": "function", "function": {"name": n}} for n in ("weather", "time")]
    chunks = collect(openai_client, tools=tools, reasoning_effort="low")
    deltas: list[Any] = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "hmm"
    thinking = [b for d in deltas for b in (getattr(d, "thinking_blocks", None) or [])]
    assert thinking == [{"type": "thinking", "thinking": "hmm", "signature": "c2ln"}]
    calls: dict[int, dict[str, str]] = {}
    for d in deltas:
        for call in d.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "args": ""})
            entry["id"] += call.id or ""
            entry["name"] += (call.function and call.function.name) or ""
            entry["args"] += (call.function and call.function.arguments) or ""
    assert calls == {
        0: {"id": "tooluse_1", "name": "weather", "args": '{"city":"Paris"}'},
        1: {"id": "tooluse_2", "name": "time", "args": "{}"},
    }
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_corrupt_frame_is_a_clean_error(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    bad = bytearray(event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}}))
    bad[-1] ^= 0xFF  # message CRC no longer matches
    bedrock.queue(event_stream([event_frame("messageStart", {"role": "assistant"}), bytes(bad)]))
    with pytest.raises(openai.APIStatusError) as info:
        collect(openai_client)
    assert info.value.status_code == 502 and "corrupt event-stream frame" in str(info.value)


def test_stream_cut_mid_frame(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    frames = converse_stream_frames()
    bedrock.queue(event_stream([frames[0], frames[1][:10]]))
    with pytest.raises(openai.APIStatusError) as info:
        collect(openai_client)
    assert info.value.status_code == 502


def test_error_frame_before_content(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    error = encode_frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b"")
    bedrock.queue(event_stream([converse_stream_frames()[0], error]))
    with pytest.raises(openai.APIStatusError) as info:
        collect(openai_client)
    assert info.value.status_code == 502 and "boom" in str(info.value)
