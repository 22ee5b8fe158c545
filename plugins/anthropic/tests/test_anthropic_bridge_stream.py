"""/v1/messages streams to an OpenAI-wire account: the anthropic SDK's messages.stream over
the Messages bridge gets the real event sequence, with the peers' known bugs tested."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from bridge_helpers import MODEL, USAGE, chat_stream, chunk, tool_call

from proxy_core.testing import FakeUpstream, Reply

HI = [{"role": "user", "content": "Hi"}]


def run(client: anthropic.Anthropic, **kw: Any) -> tuple[list[Any], Any]:
    kw.setdefault("model", MODEL)
    kw.setdefault("max_tokens", 100)
    kw.setdefault("messages", HI)
    with client.messages.stream(**kw) as stream:
        events = list(stream)
        final = stream.get_final_message()
    return [e for e in events if e.type in _RAW], final


_RAW = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
}


def test_text_stream_sequence_and_usage(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(
        chat_stream(
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo."}),
            chunk({}, "stop"),
        )
    )
    events, final = run(anthropic_client)
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0].message
    assert start.usage.input_tokens > 0  # an estimate: OpenAI reports usage only at the end
    assert start.model == MODEL
    delta = events[5]
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.input_tokens == 30 and delta.usage.output_tokens == 9
    # get_final_message() is what streamed, with the exact usage
    assert [b.type for b in final.content] == ["text"] and final.content[0].text == "Hello."
    assert final.usage.input_tokens == 30 and final.usage.output_tokens == 9
    assert final.stop_reason == "end_turn"
    sent = fake_openai.last.json()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_one_message_start_even_without_a_role_chunk(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    """Peers: a duplicate message_start (one per role chunk)."""
    fake_openai.queue(
        chat_stream(chunk({"role": "assistant"}), chunk({"role": "assistant", "content": "A"}), chunk({}, "stop"))
    )
    events, final = run(anthropic_client)
    assert [e.type for e in events].count("message_start") == 1
    assert final.content[0].text == "A"


def test_tool_call_first_chunk_is_not_lost(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    """Peers: the tool_use block lost when the first chunk already carries the call (no
    role chunk before it), and an empty text block on a tool-only answer."""
    fake_openai.queue(
        chat_stream(
            chunk({"tool_calls": [tool_call(0, "call_1", "get_weather", '{"ci')]}),
            chunk({"tool_calls": [tool_call(0, None, None, 'ty": "Paris"}')]}),
            chunk({"tool_calls": [tool_call(1, "call_2", "get_time", "")]}),
            chunk({"tool_calls": [tool_call(1, None, None, '{"tz": "CET"}')]}),
            chunk({}, "tool_calls"),
        )
    )
    events, final = run(anthropic_client)
    kinds = [(e.type, getattr(e, "index", None)) for e in events]
    assert kinds == [
        ("message_start", None),
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("message_delta", None),
        ("message_stop", None),
    ]
    assert events[2].delta.type == "input_json_delta" and events[2].delta.partial_json == '{"ci'
    assert final.stop_reason == "tool_use"
    assert [(b.type, b.name, b.input) for b in final.content] == [  # type: ignore[union-attr]
        ("tool_use", "get_weather", {"city": "Paris"}),
        ("tool_use", "get_time", {"tz": "CET"}),
    ]
    assert final.content[0].id == "call_1"  # type: ignore[union-attr]


def test_a_whole_answer_in_one_chunk(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    """Gemini-style: role, a complete tool call and the finish reason in one chunk, the
    usage beside them, no separate usage chunk."""
    whole = chunk(
        {"role": "assistant", "content": None, "tool_calls": [tool_call(0, "call_9", "lookup", '{"q": "x"}')]},
        "tool_calls",
        usage={"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
    )
    fake_openai.queue(chat_stream(whole, usage=None))
    events, final = run(anthropic_client)
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0].message.usage.input_tokens == 50  # the first chunk had the usage: no estimate
    assert final.usage.input_tokens == 50 and final.usage.output_tokens == 5
    assert final.content[0].input == {"q": "x"}  # type: ignore[union-attr]


@pytest.mark.parametrize(("finish", "expected"), [("length", "max_tokens"), ("content_filter", "refusal")])
def test_stream_stop_reasons(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream, finish: str, expected: str
) -> None:
    fake_openai.queue(chat_stream(chunk({"content": "cut"}), chunk({}, finish)))
    _, final = run(anthropic_client)
    assert final.stop_reason == expected


def test_refusal_delta(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(chat_stream(chunk({"role": "assistant", "refusal": "No."}), chunk({}, "stop")))
    _, final = run(anthropic_client)
    assert final.stop_reason == "refusal" and final.content[0].text == "No."  # type: ignore[union-attr]


def test_reasoning_streams_as_a_thinking_block(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(
        chat_stream(
            chunk({"role": "assistant", "reasoning_content": "Six "}),
            chunk({"reasoning_content": "times seven."}),
            chunk({"content": "42"}),
            chunk({}, "stop"),
            usage={**USAGE, "completion_tokens_details": {"reasoning_tokens": 4}},
        )
    )
    events, final = run(
        anthropic_client,
        model="openai-main/o4-mini",
        max_tokens=4000,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert [(e.type, getattr(e, "index", None)) for e in events][1:6] == [
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
    ]
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Six times seven."  # type: ignore[union-attr]
    assert fake_openai.last.json()["reasoning_effort"] == "low"


def test_error_before_content_is_an_anthropic_error(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(Reply.json({"error": {"message": "overloaded", "type": "server_error"}}, status=503))
    with pytest.raises(anthropic.APIStatusError) as err:
        run(anthropic_client)
    assert err.value.status_code == 503
    assert err.value.body["type"] == "error"  # type: ignore[index]


def test_error_mid_stream_is_an_error_event(anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(Reply.sse([chunk({"content": "Hel"}), {"error": {"message": "boom", "type": "server_error"}}]))
    with pytest.raises(anthropic.APIStatusError) as err:
        run(anthropic_client)
    assert "boom" in str(err.value)


def test_truncated_upstream_stream_ends_in_an_error(
    anthropic_client: anthropic.Anthropic, fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(Reply.sse([chunk({"content": "Hel"}), chunk({"content": "lo"})]))  # no [DONE]
    with pytest.raises(anthropic.APIStatusError):
        run(anthropic_client)
