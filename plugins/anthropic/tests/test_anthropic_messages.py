"""The native Messages API (``/v1/messages``, ``count_tokens``) with the official anthropic SDK.

A valid body goes up unchanged but for ``model``; streams are relayed event by event.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from anthropic_helpers import MODEL, UPSTREAM_KEY, UPSTREAM_MODEL, events_for

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT, anthropic_events
from proxy_core.testing.fake_upstream import encode


def test_native_create_seed(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    message = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=256,
        system="You answer in one short sentence.",
        messages=[{"role": "user", "content": "What is TrueFoundry in one line?"}],
    )
    assert message.content[0].type == "text" and message.content[0].text == ANTHROPIC_TEXT
    assert message.model == MODEL
    assert message.usage.input_tokens == 12 and message.usage.output_tokens == 8
    assert message.stop_reason == "end_turn"
    upstream = fake_anthropic.last
    assert upstream.path == "/v1/messages"
    assert upstream.json() == {
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "What is TrueFoundry in one line?"}],
        "model": UPSTREAM_MODEL,
        "system": "You answer in one short sentence.",
    }
    assert upstream.headers["x-api-key"] == UPSTREAM_KEY
    # The client's own anthropic-version goes up (the gateway's default is only for OpenAI clients).
    assert upstream.headers["anthropic-version"] == anthropic_client.default_headers["anthropic-version"]
    assert GATEWAY_KEY not in repr(upstream.headers) and GATEWAY_KEY.encode() not in upstream.body


def test_native_body_passes_unchanged(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    """Fields the gateway does not know (new betas) go up as they came."""
    request = {
        "max_tokens": 1024,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}
        ],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
        "metadata": {"user_id": "u1"},
    }
    anthropic_client.messages.create(model=MODEL, **request, extra_body={"future_field": {"x": 1}})
    assert fake_anthropic.last.json() == {**request, "model": UPSTREAM_MODEL, "future_field": {"x": 1}}


@pytest.mark.parametrize("style", ["api_key", "auth_token"])
def test_both_auth_styles_seed_001(gateway: RunningGateway, fake_anthropic: FakeUpstream, style: str) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, max_retries=0, **{style: GATEWAY_KEY})
    response = client.messages.create(
        model="anthropic/claude-3-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Hello, Claude! Please explain quantum computing in simple terms."}],
    )
    assert response.content[0].type == "text" and response.content[0].text == ANTHROPIC_TEXT
    assert response.model == "anthropic/claude-3-5"
    upstream = fake_anthropic.last
    assert upstream.json()["model"] == "claude-3-5"
    assert upstream.headers["x-api-key"] == UPSTREAM_KEY
    assert "authorization" not in upstream.headers


def test_wrong_gateway_key_is_401_anthropic_shape(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as info:
        client.messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["type"] == "error"
    assert fake_anthropic.requests == []


def test_native_stream_seed(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    with anthropic_client.messages.stream(
        model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "Count from 1 to 5, one per line."}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == ANTHROPIC_TEXT
    assert final.content[0].type == "text" and final.content[0].text == ANTHROPIC_TEXT
    assert final.usage.output_tokens == 8 and final.stop_reason == "end_turn"
    body = fake_anthropic.last.json()
    assert body["stream"] is True and body["model"] == UPSTREAM_MODEL


def test_native_stream_relays_events_byte_for_byte(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    events = anthropic_events(UPSTREAM_MODEL, "one two three four")
    sent = Reply.sse(events)
    fake_anthropic.queue(sent)
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/v1/messages",
            headers={"x-api-key": GATEWAY_KEY},
            json={"model": MODEL, "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200
    assert response.content == b"".join(sent.events or [])


def test_native_stream_seed_001_system(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    content = [{"type": "thinking", "thinking": "hmm", "signature": "sig=="}, {"type": "text", "text": "A poem."}]
    fake_anthropic.queue(Reply.sse(events_for(content)))
    with anthropic_client.messages.stream(
        model="anthropic/claude-3-5",
        max_tokens=100,
        system="You are a helpful AI assistant that specializes in explaining complex topics simply.",
        messages=[{"role": "user", "content": "Write a short poem about AI."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "A poem."
    assert final.content[0].type == "thinking" and final.content[0].signature == "sig=="
    assert fake_anthropic.last.json()["system"].startswith("You are a helpful AI assistant")


def test_native_stream_error_event(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    events = anthropic_events(UPSTREAM_MODEL, "abcdefgh")[:5]
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    fake_anthropic.queue(Reply.sse(events))
    stream = anthropic_client.messages.stream(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.APIStatusError) as info, stream as events_in:
        list(events_in.text_stream)
    assert "Overloaded" in str(info.value)


@pytest.mark.parametrize(
    "bad_tail",
    [
        [],  # cut: no message_stop
        [b"event: content_block_delta\ndata: {oops\n\n"],  # malformed JSON
        [b"event: content_block_delta\ndata: [1, 2]\n\n"],  # not an event object
    ],
)
def test_native_stream_bad_upstream_ends_in_error_event(
    gateway: RunningGateway, fake_anthropic: FakeUpstream, bad_tail: list[bytes]
) -> None:
    events: list[Any] = anthropic_events(UPSTREAM_MODEL, "abcdefgh")[:5]
    fake_anthropic.queue(Reply.sse(events + bad_tail, delay_between=0.02))
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/v1/messages",
            headers={"x-api-key": GATEWAY_KEY},
            json={"model": MODEL, "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200
    assert b"event: content_block_delta" in response.content
    assert response.content.endswith(b"\n\n")
    tail = response.content.rsplit(b"\n\n", 2)[-2]
    assert tail.startswith(b"event: error\ndata: {")
    assert b'"type":"error"' in tail and b"api_error" in tail


def test_count_tokens(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    result = anthropic_client.messages.count_tokens(
        model=MODEL, system="Be brief.", messages=[{"role": "user", "content": "Hello, Claude"}]
    )
    assert result.input_tokens == 42
    upstream = fake_anthropic.last
    assert upstream.path == "/v1/messages/count_tokens"
    assert upstream.json() == {
        "messages": [{"role": "user", "content": "Hello, Claude"}],
        "model": UPSTREAM_MODEL,
        "system": "Be brief.",
    }
    assert upstream.headers["x-api-key"] == UPSTREAM_KEY


def test_beta_header_passthrough(anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream) -> None:
    anthropic_client.beta.messages.create(
        model=MODEL,
        max_tokens=20,
        messages=[{"role": "user", "content": "hi"}],
        betas=["token-efficient-tools-2025-02-19"],
    )
    upstream = fake_anthropic.last
    assert upstream.path == "/v1/messages"
    assert upstream.headers["anthropic-beta"] == "token-efficient-tools-2025-02-19"
    anthropic_client.messages.create(
        model=MODEL,
        max_tokens=20,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"anthropic-beta": "files-api-2025-04-14", "anthropic-version": "2023-01-01"},
    )
    assert fake_anthropic.last.headers["anthropic-beta"] == "files-api-2025-04-14"
    assert fake_anthropic.last.headers["anthropic-version"] == "2023-01-01"


def test_upstream_error_body_returned_unchanged(
    anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream
) -> None:
    body = {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your rate limit"},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    fake_anthropic.queue(Reply.json(body, status=429, headers={"retry-after": "7"}))
    with pytest.raises(anthropic.RateLimitError) as info:
        anthropic_client.messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 429
    assert info.value.body == body
    assert info.value.response.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "system": 42}, "system"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": [{"text": "no type"}]}]}, "messages.0.content.0"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": ["str"]}]}, "messages.0.content.0"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": {"a": 1}}, "tools"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "stop_sequences": "x"}, "stop_sequences"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}, "temperature"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "system": [{"type": "image"}]}, "system.0"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
        ({"max_tokens": 5, "messages": [{"role": "system", "content": "hi"}]}, "messages.0.role"),
    ],
)
def test_malformed_native_body_is_400_without_upstream_call(
    gateway: RunningGateway, fake_anthropic: FakeUpstream, body: dict, fragment: str
) -> None:
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/v1/messages", headers={"x-api-key": GATEWAY_KEY}, json={"model": MODEL, **body}
        )
    assert response.status_code == 400
    data = response.json()
    assert data["type"] == "error" and data["error"]["type"] == "invalid_request_error"
    assert fragment in data["error"]["message"]
    assert fake_anthropic.requests == []


def test_messages_route_without_v1(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    with httpx.Client() as http:
        response = http.post(
            gateway.url + "/messages",
            headers={"authorization": "Bearer " + GATEWAY_KEY},
            json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200 and response.json()["content"][0]["text"] == ANTHROPIC_TEXT
    assert fake_anthropic.last.path == "/v1/messages"
    assert fake_anthropic.last.headers["anthropic-version"] == "2023-06-01"  # the default when absent
    assert fake_anthropic.last.headers["x-api-key"] == UPSTREAM_KEY


def test_native_stream_relays_events_as_they_arrive(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    """The upstream goes silent after a few events: those events still reach the client."""
    events = anthropic_events(UPSTREAM_MODEL, "one two three four")
    fake_anthropic.queue(Reply.sse(events, stall_after=5))  # start, block start, ping, 2 deltas
    got = b""
    with (
        httpx.Client(timeout=5) as http,
        http.stream(
            "POST",
            gateway.url + "/v1/messages",
            headers={"x-api-key": GATEWAY_KEY},
            json={"model": MODEL, "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        ) as response,
    ):
        for chunk in response.iter_bytes():
            got += chunk
            if got.count(b"event: content_block_delta") == 2:
                break
    assert got == b"".join(encode(e) for e in events[:5])
    assert fake_anthropic.wait_for_disconnect() is not None, "closing the client cancels the upstream request"
