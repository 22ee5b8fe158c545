"""Seed 003 (another gateway's Anthropic page), its OpenAI-SDK and Anthropic-SDK examples
run as written but for base URL and key: ``@account/model`` names, system prompts,
streaming, vision by data URI, PDF with ``mime_type``, ``thinking``, native /messages.
"""

from __future__ import annotations

import base64

import anthropic
import openai
import pytest
from anthropic_helpers import events_for, message_reply

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT

MODEL = "@anthropic/claude-sonnet-4-5-20250929"
UPSTREAM = "claude-sonnet-4-5-20250929"


@pytest.fixture
def client(gateway: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(api_key=GATEWAY_KEY, base_url=gateway.url + "/v1", max_retries=0)


def test_quick_start_and_system_prompt(client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    response = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a snarky assistant."},
            {"role": "user", "content": "How do I boil water?"},
        ],
        max_tokens=250,
    )
    assert response.choices[0].message.content == ANTHROPIC_TEXT
    assert response.model == MODEL
    assert fake_anthropic.last.json() == {
        "model": UPSTREAM,
        "system": "You are a snarky assistant.",
        "messages": [{"role": "user", "content": "How do I boil water?"}],
        "max_tokens": 250,
    }


def test_streaming_loop_as_written(client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    response = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story"}], max_tokens=500, stream=True
    )
    out = []
    for chunk in response:  # the seed indexes choices[0] on every chunk
        if chunk.choices[0].delta.content:
            out.append(chunk.choices[0].delta.content)
    assert "".join(out) == ANTHROPIC_TEXT
    assert fake_anthropic.last.json()["max_tokens"] == 500


def test_vision_base64(client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    image_data = base64.b64encode(b"\xff\xd8\xff\xe0fake-jpeg").decode("utf-8")
    client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{image_data}"}},
                    {"type": "text", "text": "What's in this image?"},
                ],
            }
        ],
        max_tokens=300,
    )
    assert fake_anthropic.last.json()["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": image_data}},
        {"type": "text", "text": "What's in this image?"},
    ]


@pytest.mark.parametrize("as_data_uri", [True, False])
def test_pdf_with_mime_type(client: openai.OpenAI, fake_anthropic: FakeUpstream, as_data_uri: bool) -> None:
    pdf_base64 = base64.b64encode(b"%PDF-1.4 fake document").decode()
    pdf_data = f"data:application/pdf;base64,{pdf_base64}" if as_data_uri else pdf_base64
    client.chat.completions.create(
        model=MODEL,
        max_tokens=1024,
        messages=[
            {"role": "system", "content": "You are a helpful document analysis assistant."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What are the key findings in this document?"},
                    {"type": "file", "file": {"mime_type": "application/pdf", "file_data": pdf_data}},
                ],
            },
        ],
    )
    body = fake_anthropic.last.json()
    assert body["system"] == "You are a helpful document analysis assistant."
    assert body["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf_base64},
    }


def test_extended_thinking_param(client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(
        message_reply(
            [
                {"type": "thinking", "thinking": "Flights vary.", "signature": "c2lnbmF0dXJl"},
                {"type": "text", "text": "I cannot know tomorrow's flights."},
            ]
        )
    )
    response = client.chat.completions.create(
        model=MODEL,
        max_tokens=3000,
        stream=False,
        messages=[{"role": "user", "content": [{"type": "text", "text": "when does the flight land tomorrow?"}]}],
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 2030}},
    )
    body = fake_anthropic.last.json()
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2030}
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "when does the flight land tomorrow?"}]}
    ]
    extra = response.choices[0].message.model_extra or {}
    assert extra["thinking_blocks"] == [{"type": "thinking", "thinking": "Flights vary.", "signature": "c2lnbmF0dXJl"}]


def test_streaming_thinking(client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    content = [
        {"type": "thinking", "thinking": "Let me reason about flights.", "signature": "c2ln"},
        {"type": "text", "text": "Unknown."},
    ]
    fake_anthropic.queue(Reply.sse(events_for(content)))
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            max_tokens=3000,
            stream=True,
            messages=[{"role": "user", "content": "when does the flight land?"}],
            extra_body={"thinking": {"type": "enabled", "budget_tokens": 2030}},
        )
    )
    deltas = [c.choices[0].delta.model_extra or {} for c in chunks]
    assert "".join(d.get("reasoning_content") or "" for d in deltas) == "Let me reason about flights."
    assert [b for d in deltas for b in d.get("thinking_blocks") or []] == [
        {"type": "thinking", "thinking": "Let me reason about flights.", "signature": "c2ln"}
    ]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Unknown."


def test_native_messages_route(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    native = anthropic.Anthropic(api_key=GATEWAY_KEY, base_url=gateway.url, max_retries=0)
    message = native.messages.create(
        model=MODEL, max_tokens=250, messages=[{"role": "user", "content": "What is Portkey's AI Gateway?"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == ANTHROPIC_TEXT
    assert fake_anthropic.last.json() == {
        "max_tokens": 250,
        "messages": [{"role": "user", "content": "What is Portkey's AI Gateway?"}],
        "model": UPSTREAM,
    }
