"""A Messages stream that ends after ``message_delta`` but without ``message_stop``.

The stop_reason and the final usage came: the answer is complete, so both routes end
it cleanly (chat: finish_reason, usage chunk, [DONE]; native: ``message_stop`` is
appended) instead of an in-stream error after the whole answer.
"""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest
from anthropic_helpers import MODEL, UPSTREAM_MODEL, events_for

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_upstream import encode

CONTENT = [{"type": "text", "text": "The whole answer."}]


def _without_message_stop() -> list[dict[str, object]]:
    events = events_for(CONTENT, usage={"input_tokens": 20})
    assert events[-1] == {"type": "message_stop"} and events[-2]["type"] == "message_delta"
    return events[:-1]


@pytest.mark.parametrize("include_usage", [True, False])
def test_chat_stream_missing_message_stop_ends_cleanly(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, include_usage: bool
) -> None:
    fake_anthropic.queue(Reply.sse(_without_message_stop()))
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    chunks = list(
        openai_client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True, **options
        )
    )  # the SDK raises on an in-stream error; a clean end returns every chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The whole answer."
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finishing] == ["stop"]
    if include_usage:
        last = chunks[-1]
        assert last.choices == [] and last.usage is not None
        assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (20, 8)
        assert chunks[-2] is finishing[0]
    else:
        assert chunks[-1] is finishing[0]
        assert all(c.usage is None for c in chunks)
    assert fake_anthropic.last.json()["stream"] is True


def test_chat_stream_raw_ends_with_done(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.sse(_without_message_stop()))
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/v1/chat/completions",
            headers={"authorization": f"Bearer {GATEWAY_KEY}"},
            json={"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200
    assert response.content.endswith(b"data: [DONE]\n\n")
    assert b"error" not in response.content


def test_chat_stream_cut_before_message_delta_is_still_an_error(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    fake_anthropic.queue(Reply.sse(_without_message_stop()[:-1]))  # no stop_reason, no final usage
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as info:
        list(stream)
    assert "message_stop" in info.value.message


def test_native_stream_missing_message_stop_ends_cleanly(
    anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream
) -> None:
    fake_anthropic.queue(Reply.sse(_without_message_stop()))
    with anthropic_client.messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[-1] == "message_stop" and kinds.count("message_stop") == 1
    assert final.stop_reason == "end_turn"
    assert final.content[0].type == "text" and final.content[0].text == "The whole answer."
    assert (final.usage.input_tokens, final.usage.output_tokens) == (20, 8)
    assert fake_anthropic.last.json()["model"] == UPSTREAM_MODEL


def test_native_stream_missing_message_stop_bytes(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    events = _without_message_stop()
    fake_anthropic.queue(Reply.sse(events))
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/v1/messages",
            headers={"x-api-key": GATEWAY_KEY},
            json={"model": MODEL, "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200
    relayed = b"".join(encode(e) for e in events)
    assert response.content == relayed + b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
