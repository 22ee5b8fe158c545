"""Property tests: translation keeps what a conversation depends on, whatever the input.

* OpenAI -> Anthropic keeps message order (one block sequence, roles alternating),
  tool-call ids and arguments, and thinking signatures byte for byte.
* Anthropic -> OpenAI (non-stream and stream) gives those back: the same tool-call ids,
  arguments and indices, the same thinking blocks.
* The SSE translation gives the same output whatever the chunk boundaries.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from anthropic_helpers import events_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proxy_core_anthropic.request import translate_messages
from proxy_core_anthropic.response import message_to_chat
from proxy_core_anthropic.stream import ChatStream, PassthroughStream

from proxy_core.sse import SSEParser
from proxy_core.testing.fake_answers import anthropic_message
from proxy_core.testing.fake_upstream import encode

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
arguments = st.dictionaries(st.text(max_size=6), json_values, max_size=4)
ids = st.from_regex(r"toolu_[A-Za-z0-9]{1,16}", fullmatch=True)
texts = st.text(max_size=30)
signatures = st.text(min_size=1, max_size=40)
thinking_blocks = st.lists(
    st.one_of(
        st.builds(lambda t, s: {"type": "thinking", "thinking": t, "signature": s}, texts, signatures),
        st.builds(lambda d: {"type": "redacted_thinking", "data": d}, signatures),
    ),
    max_size=2,
)


@st.composite
def tool_calls(draw: st.DrawFn) -> list[dict[str, Any]]:
    call_ids = draw(st.lists(ids, max_size=4, unique=True))
    return [
        {
            "id": call_id,
            "type": "function",
            "function": {
                "name": draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True)),
                "arguments": orjson.dumps(draw(arguments)).decode(),
            },
        }
        for call_id in call_ids
    ]


@st.composite
def assistant_messages(draw: st.DrawFn) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": draw(st.none() | texts)}
    blocks = draw(thinking_blocks)
    if blocks:
        msg["thinking_blocks"] = blocks
    calls = draw(tool_calls())
    if calls:
        msg["tool_calls"] = calls
    return msg


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["user", "assistant", "system"]))
        if kind == "user":
            messages.append({"role": "user", "content": draw(texts)})
        elif kind == "system":
            messages.append({"role": "system", "content": draw(texts)})
        else:
            msg = draw(assistant_messages())
            messages.append(msg)
            messages += [
                {"role": "tool", "tool_call_id": c["id"], "content": draw(texts)} for c in msg.get("tool_calls", [])
            ]
    return messages


def expected_blocks(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """What one OpenAI message must become, on its own."""
    role = msg["role"]
    if role == "user":
        return [{"type": "text", "text": msg["content"]}]
    if role == "tool":
        return [{"type": "tool_result", "tool_use_id": msg["tool_call_id"], "content": msg["content"]}]
    blocks = list(msg.get("thinking_blocks", []))
    if msg["content"]:
        blocks.append({"type": "text", "text": msg["content"]})
    blocks += [
        {
            "type": "tool_use",
            "id": c["id"],
            "name": c["function"]["name"],
            "input": orjson.loads(c["function"]["arguments"]),
        }
        for c in msg.get("tool_calls", [])
    ]
    return blocks


def as_blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


@SETTINGS
@given(conversations())
def test_request_keeps_order_ids_arguments_signatures(messages: list[dict[str, Any]]) -> None:
    system, turns = translate_messages(messages)
    expected = [b for m in messages if m["role"] != "system" for b in expected_blocks(m)]
    assert [b for t in turns for b in as_blocks(t["content"])] == expected
    assert all(a["role"] != b["role"] for a, b in itertools.pairwise(turns)), "roles alternate"
    system_texts = [m["content"] for m in messages if m["role"] == "system" and m["content"]]
    if len(system_texts) == 1:
        assert system == system_texts[0]
    else:
        assert [b["text"] for b in system or []] == system_texts


def stream_to_message(events: list[dict[str, Any]], chunking: list[int] | None = None) -> list[dict[str, Any]]:
    """Feed the events' bytes (split at ``chunking``) through the parser and translator."""
    raw = b"".join(encode(e) for e in events)
    cuts = sorted({c % (len(raw) + 1) for c in chunking or []})
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    parser, translator = SSEParser(), ChatStream(include_usage=True)
    translator._created = 0  # comparable across runs
    chunks = [c for piece in pieces for event in parser.feed(piece) for c in translator.feed(event)]
    return chunks + translator.finish()


def collect(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Accumulate OpenAI chunks the way a client does."""
    content, reasoning, blocks = "", "", []
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            blocks += delta.get("thinking_blocks") or []
            for tc in delta.get("tool_calls") or []:
                entry = calls.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
                entry["id"] += tc.get("id") or ""
                entry["name"] += (tc.get("function") or {}).get("name") or ""
                entry["arguments"] += (tc.get("function") or {}).get("arguments") or ""
            finish = choice["finish_reason"] or finish
    return {"content": content, "reasoning": reasoning, "blocks": blocks, "calls": calls, "finish": finish}


@SETTINGS
@given(assistant_messages(), st.integers(1, 4))
def test_response_round_trip_stream_and_non_stream(msg: dict[str, Any], pieces: int) -> None:
    """OpenAI assistant turn -> Anthropic blocks -> (as the model's answer) -> OpenAI again."""
    _, turns = translate_messages([{"role": "user", "content": "q"}, msg])
    content = as_blocks(turns[1]["content"]) if len(turns) > 1 else []
    stop = "tool_use" if msg.get("tool_calls") else "end_turn"
    answer = message_to_chat(anthropic_message("m", content, stop_reason=stop))["choices"][0]
    got = answer["message"]
    calls = msg.get("tool_calls", [])
    assert [(c["id"], c["function"]["name"]) for c in got.get("tool_calls", [])] == [
        (c["id"], c["function"]["name"]) for c in calls
    ]
    assert [orjson.loads(c["function"]["arguments"]) for c in got.get("tool_calls", [])] == [
        orjson.loads(c["function"]["arguments"]) for c in calls
    ]
    assert got.get("thinking_blocks", []) == msg.get("thinking_blocks", [])
    assert (got["content"] or "") == (msg["content"] or "")

    streamed = collect(stream_to_message(events_for(content, stop_reason=stop, pieces=pieces)))
    assert streamed["content"] == (got["content"] or "")
    assert streamed["reasoning"] == got.get("reasoning_content", "")
    assert streamed["blocks"] == got.get("thinking_blocks", [])
    assert streamed["calls"] == {
        i: {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
        for i, c in enumerate(got.get("tool_calls", []))
    }
    assert streamed["finish"] == answer["finish_reason"]


@SETTINGS
@given(assistant_messages(), st.lists(st.integers(min_value=0), max_size=12))
def test_stream_output_independent_of_chunk_boundaries(msg: dict[str, Any], cuts: list[int]) -> None:
    _, turns = translate_messages([{"role": "user", "content": "q"}, msg])
    content = as_blocks(turns[1]["content"]) if len(turns) > 1 else []
    events = events_for(content, usage={"cache_read_input_tokens": 5})
    assert stream_to_message(events, cuts) == stream_to_message(events)


@SETTINGS
@given(assistant_messages(), st.lists(st.integers(min_value=0), max_size=12))
def test_passthrough_relays_the_same_bytes_whatever_the_boundaries(msg: dict[str, Any], cuts: list[int]) -> None:
    _, turns = translate_messages([{"role": "user", "content": "q"}, msg])
    content = as_blocks(turns[1]["content"]) if len(turns) > 1 else []
    raw = b"".join(encode(e) for e in events_for(content))
    points = sorted({c % (len(raw) + 1) for c in cuts})
    parser, relay = SSEParser(), PassthroughStream()
    out = b"".join(
        e.raw
        for a, b in zip([0, *points], [*points, len(raw)], strict=True)
        for ev in parser.feed(raw[a:b])
        for e in relay.feed(ev)
    )
    relay.finish()
    assert out == raw
    assert relay.usage is not None and relay.usage["completion_tokens"] == 8
