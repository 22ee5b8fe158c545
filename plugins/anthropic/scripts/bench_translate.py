"""Cost of the Anthropic translators per request and per stream event (not a speed claim:
``make bench`` measures the gateway end to end). Each line compares a translator with
the orjson parse + serialize of the same data that any gateway has to pay anyway.

    .venv/bin/python plugins/anthropic/scripts/bench_translate.py
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

import orjson
from proxy_core_anthropic.params import default_max_tokens
from proxy_core_anthropic.request import chat_to_messages
from proxy_core_anthropic.response import message_to_chat
from proxy_core_anthropic.stream import ChatStream, PassthroughStream

from proxy_core.sse import SSEParser
from proxy_core.testing.fake_answers import anthropic_message
from proxy_core.testing.fake_upstream import encode

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CALL = {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
REQUEST = {
    "model": "anthropic-main/claude-sonnet-4-5",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. " * 20},
        *[
            m
            for _ in range(5)
            for m in (
                {"role": "user", "content": "What is the weather like in Paris today? " * 5},
                {"role": "assistant", "content": "Let me check.", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "toolu_01", "content": '{"temp_c": 18, "sky": "clear"}'},
            )
        ],
    ],
    "tools": [TOOL] * 3,
    "temperature": 0.2,
    "stream": True,
}
RESPONSE = anthropic_message(
    "claude-sonnet-4-5",
    [
        {"type": "thinking", "thinking": "Considering the forecast. " * 20, "signature": "Eq" + "A" * 300},
        {"type": "text", "text": "It is 18C and clear in Paris. " * 10},
        {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {"city": "Rome"}},
    ],
)


def stream_events() -> list[bytes]:
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20
    start = {**anthropic_message("claude-sonnet-4-5", []), "stop_reason": None}
    events: list[dict] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text[i : i + 12]}}
        for i in range(0, len(text), 12)
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 99}},
        {"type": "message_stop"},
    ]
    return [encode(e) for e in events]


def per_call(fn: Callable[[], object], n: int) -> float:
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main() -> None:
    raw_request = orjson.dumps(REQUEST)
    raw_response = orjson.dumps(RESPONSE)

    def translate_request() -> None:
        body = orjson.loads(raw_request)
        out, _ = chat_to_messages(body, "claude-sonnet-4-5", default_max_tokens("claude-sonnet-4-5", {}))
        orjson.dumps(out)

    def baseline_request() -> None:
        orjson.dumps(orjson.loads(raw_request))

    def translate_response() -> None:
        orjson.dumps(message_to_chat(orjson.loads(raw_response)))

    def baseline_response() -> None:
        orjson.dumps(orjson.loads(raw_response))

    events = SSEParser().feed(b"".join(stream_events()))

    def chat_stream() -> None:
        t = ChatStream(include_usage=False)
        for e in events:
            for chunk in t.feed(e):
                orjson.dumps(chunk)
        t.finish()

    def passthrough() -> None:
        t = PassthroughStream()
        for e in events:
            for item in t.feed(e):
                _ = item.raw
        t.finish()

    def baseline_stream() -> None:
        for e in events:
            orjson.dumps(orjson.loads(e.data))

    rows = [
        ("request  chat->messages (+parse/dump)", per_call(translate_request, 2000), per_call(baseline_request, 2000)),
        ("response message->chat (+parse/dump)", per_call(translate_response, 5000), per_call(baseline_response, 5000)),
        (f"stream   chat, {len(events)} events", per_call(chat_stream, 500), per_call(baseline_stream, 500)),
        (f"stream   passthrough, {len(events)} events", per_call(passthrough, 500), per_call(baseline_stream, 500)),
    ]
    print(f"{'':44} {'translator':>12} {'orjson only':>12} {'ratio':>6}")
    for name, got, base in rows:
        print(f"{name:44} {got:10.1f}us {base:10.1f}us {got / base:6.2f}")
    print(f"request body {len(raw_request)} B, response body {len(raw_response)} B")


if __name__ == "__main__":
    main()
