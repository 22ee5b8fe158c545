"""Chat through an Anthropic account: a refusal lands in ``message.refusal`` (stream and
non-stream), and a PDF given as a data URI in an ``image_url`` part is a document block."""

from __future__ import annotations

import openai
from anthropic_helpers import MODEL, events_for, message_reply

from proxy_core.testing import FakeUpstream, Reply

REFUSED = "I can't help with synthesising that."


def test_refusal_non_stream(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(message_reply([{"type": "text", "text": REFUSED}], stop_reason="refusal"))
    response = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    message = response.choices[0].message
    assert message.refusal == REFUSED and message.content is None
    assert response.choices[0].finish_reason == "content_filter"


def test_refusal_without_text_still_says_so(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(message_reply([], stop_reason="refusal"))
    response = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert "declined" in (response.choices[0].message.refusal or "")


def test_refusal_stream(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.sse(events_for([{"type": "text", "text": REFUSED}], stop_reason="refusal")))
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
    )
    refusal, finish = "", None
    for chunk in stream:
        for choice in chunk.choices:
            refusal += choice.delta.refusal or ""
            finish = choice.finish_reason or finish
    assert refusal == REFUSED and finish == "content_filter"


def test_pdf_data_uri_in_image_url_is_a_document(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    pdf = "JVBERi0xLjQKJcfsj6IK"
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Summarise"},
                    {"type": "image_url", "image_url": {"url": f"data:application/pdf;base64,{pdf}"}},
                ],
            }
        ],
    )
    content = fake_anthropic.last.json()["messages"][0]["content"]
    assert content[1] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
    }
